/* IDX files into tensors: see idx.h.
 *
 * gzip data is inflated in chunks straight into the conversion loop, so
 * the 47 MB of Fashion-MNIST training images never sit in memory as bytes
 * as well as floats. */
#include "data/idx.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <zlib.h>

#include "core/alloc.h"
#include "core/readfile.h"

/* Inflated bytes per conversion step. */
#define IDX_CHUNK ((size_t)1 << 16)
/* Deflate never compresses better than about 1032:1; anything claiming
 * more is lying about its size. */
#define DEFLATE_MAX_RATIO 1032u

/* What the header says. */
typedef struct idx_header {
    int dtype;
    size_t esize;     /* bytes per value */
    int ndim;
    size_t shape[NNL_MAX_DIMS];
    size_t count;     /* number of values */
    size_t hdr_len;   /* 4 + 4 * ndim */
} idx_header;

static size_t dtype_size(int dtype)
{
    switch (dtype) {
    case 0x08: case 0x09: return 1;
    case 0x0B: return 2;
    case 0x0C: case 0x0D: return 4;
    case 0x0E: return 8;
    default: return 0;
    }
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Checks the first 4 bytes (magic, type, rank); sets dtype, esize, ndim and
 * hdr_len. */
static nnl_status parse_magic(const char *src, const unsigned char *m, idx_header *h,
                              nnl_error *err)
{
    if (m[0] != 0 || m[1] != 0)
        return nnl_fail(err, NNL_ERR_FORMAT,
                        "%s: not an IDX file (magic %02x %02x %02x %02x, "
                        "expected 00 00 <type> <rank>)", src, m[0], m[1], m[2], m[3]);
    h->dtype = m[2];
    h->esize = dtype_size(m[2]);
    if (!h->esize)
        return nnl_fail(err, NNL_ERR_FORMAT, "%s: unknown value type 0x%02x",
                        src, m[2]);
    h->ndim = m[3];
    if (h->ndim == 0)
        return nnl_fail(err, NNL_ERR_FORMAT, "%s: zero dimensions", src);
    if (h->ndim > NNL_MAX_DIMS)
        return nnl_fail(err, NNL_ERR_UNSUPPORTED,
                        "%s: %d dimensions (at most %d are supported)", src,
                        h->ndim, NNL_MAX_DIMS);
    h->hdr_len = 4 + 4 * (size_t)h->ndim;
    return NNL_OK;
}

/* Reads the dimensions (4 * ndim bytes at d) and the value count. */
static nnl_status parse_dims(const char *src, const unsigned char *d, idx_header *h,
                             nnl_error *err)
{
    size_t count = 1;
    int overflow = 0;
    for (int i = 0; i < h->ndim; i++) {
        uint32_t v = be32(d + 4 * i);
        if (v == 0)
            return nnl_fail(err, NNL_ERR_FORMAT, "%s: no data: dimension %d is 0, so "
                            "the file holds no %s", src, i + 1, i == 0 ? "items" : "values");
        h->shape[i] = v;
        if (count > SIZE_MAX / v)
            overflow = 1;
        else
            count *= v;
    }
    if (overflow || count > SIZE_MAX / h->esize)
        return nnl_fail(err, NNL_ERR_FORMAT, "%s: dimensions too large", src);
    h->count = count;
    return NNL_OK;
}

/* Converts n big-endian values of the header's type at p into out. */
static void convert(const idx_header *h, const unsigned char *p, size_t n, float *out,
                    float scale, float offset)
{
    switch (h->dtype) {
    case 0x08:
        for (size_t i = 0; i < n; i++)
            out[i] = (float)p[i] * scale + offset;
        break;
    case 0x09:
        for (size_t i = 0; i < n; i++)
            out[i] = (float)(int8_t)p[i] * scale + offset;
        break;
    case 0x0B:
        for (size_t i = 0; i < n; i++)
            out[i] = (float)(int16_t)(uint16_t)(p[2 * i] << 8 | p[2 * i + 1]) * scale + offset;
        break;
    case 0x0C:
        for (size_t i = 0; i < n; i++)
            out[i] = (float)(int32_t)be32(p + 4 * i) * scale + offset;
        break;
    case 0x0D:
        for (size_t i = 0; i < n; i++) {
            uint32_t b = be32(p + 4 * i);
            float f;
            memcpy(&f, &b, sizeof f);
            out[i] = f * scale + offset;
        }
        break;
    default: /* 0x0E */
        for (size_t i = 0; i < n; i++) {
            uint64_t b = (uint64_t)be32(p + 8 * i) << 32 | be32(p + 8 * i + 4);
            double f;
            memcpy(&f, &b, sizeof f);
            out[i] = (float)(f * scale + offset);
        }
        break;
    }
}

/* The result tensor; an error names the file (the tensor's own message
 * does not). */
static nnl_status new_tensor(const char *src, const idx_header *h, nnl_tensor **out,
                             nnl_error *err)
{
    *out = nnl_tensor_new(h->ndim, h->shape, err);
    if (*out)
        return NNL_OK;
    if (!err)
        return NNL_ERR_NOMEM;
    char why[NNL_ERROR_MAX];
    snprintf(why, sizeof why, "%s", err->msg);
    return nnl_fail(err, err->code, "%s: %s", src, why);
}

static nnl_status parse_plain(const unsigned char *buf, size_t len, const char *src,
                              float scale, float offset, nnl_tensor **out,
                              nnl_error *err)
{
    idx_header h;
    nnl_status st;
    if (len == 0)
        return nnl_fail(err, NNL_ERR_FORMAT, "%s: no data (the file is empty)", src);
    if (len < 4)
        return nnl_fail(err, NNL_ERR_FORMAT, "%s: truncated header (%zu bytes)",
                        src, len);
    if ((st = parse_magic(src, buf, &h, err)))
        return st;
    if (len < h.hdr_len)
        return nnl_fail(err, NNL_ERR_FORMAT,
                        "%s: truncated header (%zu bytes, %d dimensions need %zu)",
                        src, len, h.ndim, h.hdr_len);
    if ((st = parse_dims(src, buf + 4, &h, err)))
        return st;
    size_t have = len - h.hdr_len;
    if (have / h.esize != h.count || have % h.esize != 0) {
        char shape[64];
        nnl_shape_str_raw(h.ndim, h.shape, shape, sizeof shape);
        return nnl_fail(err, NNL_ERR_FORMAT,
                        "%s: header says %s values of %zu bytes but the file "
                        "holds %zu data bytes", src, shape, h.esize, have);
    }
    if ((st = new_tensor(src, &h, out, err)))
        return st;
    convert(&h, buf + h.hdr_len, h.count, (*out)->data, scale, offset);
    return NNL_OK;
}

/* Inflates until want bytes are in dst or the stream ends; returns the
 * number of bytes produced, or -1 on a zlib error (message in *zmsg). */
static long inflate_some(z_stream *zs, unsigned char *dst, size_t want, int *ended,
                         const char **zmsg)
{
    zs->next_out = dst;
    zs->avail_out = (uInt)want;
    while (zs->avail_out > 0 && !*ended) {
        int r = inflate(zs, Z_NO_FLUSH);
        if (r == Z_STREAM_END) {
            *ended = 1;
        } else if (r != Z_OK) {
            *zmsg = zs->msg ? zs->msg : (r == Z_BUF_ERROR ? "unexpected end of data"
                                                           : "corrupt data");
            return -1;
        }
    }
    return (long)(want - zs->avail_out);
}

static nnl_status parse_gzip(const unsigned char *buf, size_t len, const char *src,
                             float scale, float offset, nnl_tensor **out,
                             nnl_error *err)
{
    if (len < 18) /* 10-byte gzip header + 8-byte trailer */
        return nnl_fail(err, NNL_ERR_FORMAT, "%s: truncated gzip file", src);
    if (len > UINT32_MAX)
        return nnl_fail(err, NNL_ERR_UNSUPPORTED, "%s: gzip file over 4 GB", src);
    /* The trailer's ISIZE: uncompressed length mod 2^32, little-endian. */
    const unsigned char *t = buf + len - 4;
    uint32_t isize = (uint32_t)t[0] | (uint32_t)t[1] << 8 | (uint32_t)t[2] << 16 |
                     (uint32_t)t[3] << 24;

    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK)
        return nnl_fail(err, NNL_ERR_NOMEM, "%s: cannot start zlib", src);
    zs.next_in = (unsigned char *)(uintptr_t)buf; /* zlib does not write it */
    zs.avail_in = (uInt)len;

    nnl_status st = NNL_OK;
    unsigned char *chunk = NULL;
    const char *zmsg = NULL;
    int ended = 0;
    idx_header h;
    unsigned char head[4 + 4 * NNL_MAX_DIMS];

    long got = inflate_some(&zs, head, 4, &ended, &zmsg);
    if (got < 0)
        goto zfail;
    if (got == 0 && ended) {
        st = nnl_fail(err, NNL_ERR_FORMAT, "%s: no data (the gzip stream is empty)", src);
        goto done;
    }
    if (got < 4) {
        st = nnl_fail(err, NNL_ERR_FORMAT, "%s: truncated header (%ld bytes)", src, got);
        goto done;
    }
    if ((st = parse_magic(src, head, &h, err)))
        goto done;
    got = inflate_some(&zs, head + 4, h.hdr_len - 4, &ended, &zmsg);
    if (got < 0)
        goto zfail;
    if ((size_t)got < h.hdr_len - 4) {
        st = nnl_fail(err, NNL_ERR_FORMAT,
                      "%s: truncated header (%d dimensions need %zu bytes)", src,
                      h.ndim, h.hdr_len);
        goto done;
    }
    if ((st = parse_dims(src, head + 4, &h, err)))
        goto done;
    size_t data_bytes = h.count * h.esize; /* parse_dims: no overflow */
    /* The ratio first: it bounds data_bytes, so the sum cannot wrap (a
     * header of 2^64 - 1 bytes plus 16 would look like 15). */
    uint64_t total = data_bytes / DEFLATE_MAX_RATIO > len
                         ? UINT64_MAX
                         : (uint64_t)h.hdr_len + data_bytes;
    if (total == UINT64_MAX || (uint32_t)total != isize) {
        char shape[64];
        nnl_shape_str_raw(h.ndim, h.shape, shape, sizeof shape);
        st = nnl_fail(err, NNL_ERR_FORMAT,
                      "%s: header says %s values (%llu bytes uncompressed) but the "
                      "gzip file records %lu bytes", src, shape,
                      (unsigned long long)total, (unsigned long)isize);
        goto done;
    }
    chunk = nnl_malloc(IDX_CHUNK);
    if (!chunk) {
        st = nnl_fail(err, NNL_ERR_NOMEM, "%s: out of memory", src);
        goto done;
    }
    if ((st = new_tensor(src, &h, out, err)))
        goto done;
    float *dst = (*out)->data;
    size_t done_vals = 0, carry = 0;
    while (done_vals < h.count) {
        size_t want = IDX_CHUNK - carry;
        size_t left = (h.count - done_vals) * h.esize - carry;
        if (want > left)
            want = left;
        got = inflate_some(&zs, chunk + carry, want, &ended, &zmsg);
        if (got < 0)
            goto zfail;
        size_t avail = carry + (size_t)got;
        size_t n = avail / h.esize;
        convert(&h, chunk, n, dst + done_vals, scale, offset);
        done_vals += n;
        carry = avail - n * h.esize;
        if (carry)
            memmove(chunk, chunk + n * h.esize, carry);
        if ((size_t)got < want) {
            st = nnl_fail(err, NNL_ERR_FORMAT,
                          "%s: data ends after %zu of %zu values", src, done_vals,
                          h.count);
            goto done;
        }
    }
    /* The stream must end here: more data means the header lied. */
    if (!ended) {
        unsigned char extra;
        got = inflate_some(&zs, &extra, 1, &ended, &zmsg);
        if (got < 0)
            goto zfail;
        if (got > 0 || !ended) {
            st = nnl_fail(err, NNL_ERR_FORMAT,
                          "%s: more data than the header's %zu values", src, h.count);
            goto done;
        }
    }
    if (zs.avail_in != 0) {
        st = nnl_fail(err, NNL_ERR_FORMAT, "%s: %u bytes after the gzip stream",
                      src, zs.avail_in);
        goto done;
    }
    goto done;

zfail:
    st = nnl_fail(err, NNL_ERR_FORMAT, "%s: gzip data is corrupt: %s", src, zmsg);
done:
    inflateEnd(&zs);
    nnl_free(chunk);
    if (st && *out) {
        nnl_tensor_free(*out);
        *out = NULL;
    }
    return st;
}

nnl_status nnl_idx_parse_buffer(const unsigned char *buf, size_t len, const char *source,
                                float scale, float offset, nnl_tensor **out,
                                nnl_error *err)
{
    const char *src = source ? source : "<buffer>";
    *out = NULL;
    if (len >= 2 && buf[0] == 0x1f && buf[1] == 0x8b)
        return parse_gzip(buf, len, src, scale, offset, out, err);
    return parse_plain(buf, len, src, scale, offset, out, err);
}

nnl_status nnl_idx_load(const char *path, float scale, float offset, nnl_tensor **out,
                        nnl_error *err)
{
    nnl_file f;
    *out = NULL;
    nnl_status st = nnl_file_open(NULL, path, &f, err);
    if (st)
        return st;
    st = nnl_idx_parse_buffer((const unsigned char *)f.data, f.len, path, scale, offset,
                              out, err);
    nnl_file_close(&f);
    return st;
}
