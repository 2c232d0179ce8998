/* Status codes and error messages of the C library.
 *
 * Library code never prints, exits or aborts. A function that can fail
 * returns an nnl_status and, when given a non-NULL nnl_error, fills it with
 * a message that names the function and the values involved; src/bind
 * raises that message as a Lua error. */
#ifndef NNL_STATUS_H
#define NNL_STATUS_H

typedef enum nnl_status {
    NNL_OK = 0,
    NNL_ERR_NOMEM,        /* an allocation failed */
    NNL_ERR_ARG,          /* a bad argument value */
    NNL_ERR_SHAPE,        /* shapes do not agree */
    NNL_ERR_RANGE,        /* an index out of range */
    NNL_ERR_IO,           /* a file could not be read or written */
    NNL_ERR_FORMAT,       /* malformed input data */
    NNL_ERR_UNSUPPORTED,  /* valid request this build or CPU cannot do */
    NNL_ERR_INTERRUPTED   /* stopped by the user (Ctrl-C) */
} nnl_status;

#define NNL_ERROR_MAX 512

typedef struct nnl_error {
    nnl_status code;
    char msg[NNL_ERROR_MAX];
} nnl_error;

/* Fills err (when not NULL) with code and a printf-style message, and
 * returns code, so callers can write `return nnl_fail(err, ...)`. */
nnl_status nnl_fail(nnl_error *err, nnl_status code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Resets err to NNL_OK with an empty message. err may be NULL. */
void nnl_error_clear(nnl_error *err);

/* A short English name for a status code ("out of memory", ...). */
const char *nnl_status_name(nnl_status code);

#endif
