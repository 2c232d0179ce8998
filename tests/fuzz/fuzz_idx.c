/* libFuzzer target for the IDX reader, plain and gzip (tests/fuzz/build.sh
 * builds it). An input starting with 0xFF is gzip-compressed (after that
 * byte) before parsing, so mutations of the IDX header also reach the
 * gzip path's checks (trailer size, ratio bound, stream end) instead of
 * mostly breaking the deflate data. Checks that a success gives a tensor
 * of the header's size and that nothing leaks. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "core/alloc.h"
#include "data/idx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* gzip of in[0..n) into a malloc'd buffer; NULL on failure. */
static unsigned char *gzip(const uint8_t *in, size_t n, size_t *out_len)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return NULL;
    size_t cap = deflateBound(&zs, (uLong)n);
    unsigned char *out = malloc(cap);
    if (!out) {
        deflateEnd(&zs);
        return NULL;
    }
    zs.next_in = (unsigned char *)(uintptr_t)in;
    zs.avail_in = (uInt)n;
    zs.next_out = out;
    zs.avail_out = (uInt)cap;
    int r = deflate(&zs, Z_FINISH);
    *out_len = cap - zs.avail_out;
    deflateEnd(&zs);
    if (r != Z_STREAM_END) {
        free(out);
        return NULL;
    }
    return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned char *packed = NULL;
    if (size > 0 && data[0] == 0xFF) {
        size_t len;
        packed = gzip(data + 1, size - 1, &len);
        if (!packed)
            return 0;
        data = packed;
        size = len;
    }
    nnl_tensor *t = NULL;
    nnl_error err;
    if (nnl_idx_parse_buffer(data, size, "fuzz", 1.0f, 0.0f, &t, &err) == NNL_OK) {
        if (!t)
            abort();
        size_t n = 1;
        for (int i = 0; i < t->ndim; i++)
            n *= t->shape[i];
        if (n != t->numel || n == 0)
            abort();
        nnl_tensor_free(t);
    } else if (t != NULL || err.msg[0] == '\0') {
        abort();
    }
    free(packed);
    if (nnl_alloc_live() != 0)
        abort();
    return 0;
}
