/* The safetensors container, shared by model files (modelfile*.c) and
 * files of named tensors (tensorfile.c): the checked reading of a header
 * and of one tensor's data (converted to float32), and the atomic writing
 * of float32 tensors with a metadata object.
 *
 * Layout: an 8-byte little-endian header length n, n bytes of JSON (padded
 * with spaces to a multiple of 8 when written here), then the data region.
 * The JSON maps each tensor name to {"dtype", "shape", "data_offsets":
 * [begin, end]} (offsets relative to the data region) and may hold
 * "__metadata__", an object of strings.
 *
 * nnl_st_parse checks everything a header claims against the bytes that
 * back it before anything is read or allocated by size: the header length
 * (at most NNL_ST_MAX_HEADER and inside the file), the JSON, every dtype,
 * every shape (at most NNL_ST_MAX_DIMS sizes whose product, times the
 * element size, fits the data region, checked as it grows so it cannot
 * overflow), every data_offsets pair (inside the data, exactly the shape's
 * bytes), duplicate names, and that the tensors cover the data region
 * exactly, without overlap or holes. Errors are NNL_ERR_FORMAT with a
 * message "'<what>': ..." naming the tensor or field. */
#ifndef NNL_SAFETENSORS_H
#define NNL_SAFETENSORS_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cjson/cJSON.h>
#include "core/status.h"

/* Headers above this are refused before anything is allocated. */
#define NNL_ST_MAX_HEADER ((size_t)100 << 20)
#define NNL_ST_MAX_DIMS 8

/* The element types read (converted to float32). */
typedef enum nnl_st_dtype {
    NNL_ST_F32, NNL_ST_F64, NNL_ST_F16, NNL_ST_BF16,
    NNL_ST_I64, NNL_ST_I32, NNL_ST_I16, NNL_ST_I8,
    NNL_ST_U64, NNL_ST_U32, NNL_ST_U16, NNL_ST_U8, NNL_ST_BOOL
} nnl_st_dtype;

/* "F32", ... */
const char *nnl_st_dtype_name(nnl_st_dtype d);
/* Bytes per element. */
size_t nnl_st_dtype_size(nnl_st_dtype d);

/* One tensor entry of a parsed header. */
typedef struct nnl_st_entry {
    const char *name;             /* points into the parsed header */
    nnl_st_dtype dtype;
    int ndim;                     /* 0 (a scalar) .. NNL_ST_MAX_DIMS */
    uint64_t shape[NNL_ST_MAX_DIMS];
    uint64_t numel, begin, end;   /* offsets relative to the data region */
    int used;                     /* free for the caller (model files mark names) */
} nnl_st_entry;

/* A file (or memory) being read. Set the source with nnl_st_init_mem or
 * nnl_st_open, then nnl_st_parse; release with nnl_st_close. */
typedef struct nnl_st_file {
    const unsigned char *mem;     /* the bytes, or NULL when reading f */
    FILE *f;                      /* owned when opened by nnl_st_open */
    uint64_t size;                /* bytes of the source */
    const char *what;             /* the path or a name, for messages */
    nnl_error *err;
    uint64_t hlen, data_start, data_size;
    cJSON *root;                  /* owned: the header */
    const cJSON *meta;            /* __metadata__ in root, or NULL */
    nnl_st_entry *ents;           /* owned, sorted by name */
    size_t nents;
} nnl_st_file;

/* Reads size bytes at data (NULL: none); what names them in messages. */
void nnl_st_init_mem(nnl_st_file *sf, const void *data, size_t size, const char *what,
                     nnl_error *err);
/* Opens a regular file (a FIFO or device is refused without blocking, see
 * core/readfile.h). NNL_ERR_IO on failure; sf needs nnl_st_close either way. */
nnl_status nnl_st_open(nnl_st_file *sf, const char *path, nnl_error *err);
/* Releases the header, the entries and an opened file. */
void nnl_st_close(nnl_st_file *sf);

/* Checks the whole header (see the top of this file). With only_f32 set a
 * dtype other than F32 is refused ("nnlua reads only F32"). */
nnl_status nnl_st_parse(nnl_st_file *sf, int only_f32);
/* The entry named name, or NULL. */
nnl_st_entry *nnl_st_find(nnl_st_file *sf, const char *name);
/* Reads entry e's numel values into dst as float32 (doubles rounded to the
 * nearest float, beyond its range to +-inf; integers above 2^24 in
 * magnitude rounded to the nearest float; BOOL as 0 or 1, any non-zero
 * byte being 1). */
nnl_status nnl_st_read_f32(nnl_st_file *sf, const nnl_st_entry *e, float *dst);

/* NNL_ERR_FORMAT "'<what>': <message>". */
nnl_status nnl_st_bad(nnl_st_file *sf, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* "[2, 3]" (safetensors' own notation) into buf; returns buf. */
char *nnl_st_shape_text(const uint64_t *d, int ndim, char *buf, size_t size);
/* A JSON number that is a whole number in [0, max]. */
int nnl_st_json_uint(const cJSON *j, double max, uint64_t *out);

/* One float32 tensor to write. */
typedef struct nnl_st_out {
    const char *name;
    const float *data;            /* n values, host order */
    int ndim;
    const size_t *shape;
    size_t n;
} nnl_st_out;

/* Writes n tensors, in the given order, and meta (an object of strings;
 * NULL: none; consumed) to path through core/writefile.h: a temporary
 * renamed over the path, so a failure leaves an old file as it was. who
 * starts the messages of the write ("save"). Names must be distinct and not
 * "__metadata__" (the caller checks). */
nnl_status nnl_st_write(const char *who, const char *path, const nnl_st_out *t, size_t n,
                        cJSON *meta, nnl_error *err);

#endif
