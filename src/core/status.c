/* Error reporting for the C library: see status.h. */
#include "core/status.h"

#include <stdarg.h>
#include <stdio.h>

nnl_status nnl_fail(nnl_error *err, nnl_status code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        err->code = code;
    }
    return code;
}

void nnl_error_clear(nnl_error *err)
{
    if (err) {
        err->code = NNL_OK;
        err->msg[0] = '\0';
    }
}

const char *nnl_status_name(nnl_status code)
{
    switch (code) {
    case NNL_OK: return "ok";
    case NNL_ERR_NOMEM: return "out of memory";
    case NNL_ERR_ARG: return "bad argument";
    case NNL_ERR_SHAPE: return "shape mismatch";
    case NNL_ERR_RANGE: return "index out of range";
    case NNL_ERR_IO: return "input/output error";
    case NNL_ERR_FORMAT: return "malformed data";
    case NNL_ERR_UNSUPPORTED: return "unsupported";
    case NNL_ERR_INTERRUPTED: return "interrupted";
    }
    return "unknown error";
}
