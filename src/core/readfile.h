/* Reading a whole file into memory, for the loaders in src/data and the
 * model file reader, and the one way every reader of a user's path opens
 * it (nnl_open_regular).
 *
 * Files are read into memory, never used as a mapping of the file: a file
 * truncated by another process while a mapping of it is parsed kills the
 * reader with SIGBUS. The copy goes to an anonymous mapping populated in
 * one pass; the copy costs about 0.08 s of system time per 100 MB on the
 * development machine, next to about 0.3 s to parse a CSV of that size. */
#ifndef NNL_READFILE_H
#define NNL_READFILE_H
#include <stddef.h>
#include <sys/stat.h>
#include "core/status.h"

/* A file's bytes. Owns the mapping holding them; release with
 * nnl_file_close. data is NOT terminated. */
typedef struct nnl_file {
    const char *data;
    size_t len;
    void *map;       /* anonymous mmap'd copy (len bytes) or NULL */
} nnl_file;

/* Opens path for reading without ever blocking in open(): a FIFO, a
 * terminal or a device would block (or never end), so the file is opened
 * with O_NONBLOCK, checked with fstat, and refused unless it is a regular
 * file ("who: cannot read 'p': it is a FIFO (named pipe), not a regular
 * file"). Returns a blocking, close-on-exec descriptor the caller closes,
 * with *st filled; or -1 with err (NNL_ERR_IO) naming the path. */
int nnl_open_regular(const char *who, const char *path, struct stat *st,
                     nnl_error *err);

/* What a file of mode m is, for messages: "a directory", "a FIFO (named
 * pipe)", "a character device", ... ("a regular file" for one). */
const char *nnl_file_kind(mode_t m);

/* Opens path (as nnl_open_regular does) and makes its bytes available in
 * f. Errors (NNL_ERR_IO) name the path and the system's reason; `who`
 * starts the message. On failure f holds nothing to release. */
nnl_status nnl_file_open(const char *who, const char *path, nnl_file *f,
                         nnl_error *err);
/* Releases what f holds; safe on a zeroed or closed nnl_file. */
void nnl_file_close(nnl_file *f);

#endif
