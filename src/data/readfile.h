/* Reading a whole file into memory, for the loaders in src/data.
 *
 * Regular files are mapped read-only rather than read: on this kind of
 * machine faulting in fresh anonymous pages for a copy costs more than
 * parsing the text, so a 100 MB CSV loads several times faster mapped. */
#ifndef NNL_READFILE_H
#define NNL_READFILE_H
#include <stddef.h>
#include "core/status.h"

/* A file's bytes. Owns either a mapping or a nnl_malloc'd copy; release
 * with nnl_file_close. data is NOT terminated. */
typedef struct nnl_file {
    const char *data;
    size_t len;
    void *map;       /* mmap'd region (len bytes) or NULL */
    char *copy;      /* nnl_malloc'd copy or NULL */
} nnl_file;

/* Opens path and makes its bytes available in f. Errors (NNL_ERR_IO) name
 * the path and the system's reason; `who` starts the message. On failure f
 * holds nothing to release. */
nnl_status nnl_file_open(const char *who, const char *path, nnl_file *f,
                         nnl_error *err);
/* Releases what f holds; safe on a zeroed or closed nnl_file. */
void nnl_file_close(nnl_file *f);

#endif
