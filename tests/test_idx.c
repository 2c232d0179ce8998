/* The IDX reader (src/data/idx.c): every value type, plain and gzip, and
 * every malformed file it must refuse before allocating: truncated, wrong
 * magic, unknown type, zero dimensions, sizes larger than the file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <zlib.h>

#include "core/alloc.h"
#include "data/idx.h"

static nnl_tensor *t;
static nnl_error err;
static unsigned char buf[1 << 16];
static unsigned char gzbuf[1 << 16];

/* Writes an IDX header for type and dims into buf; returns its length. */
static size_t header(int type, int ndim, const uint32_t *dims)
{
    buf[0] = 0;
    buf[1] = 0;
    buf[2] = (unsigned char)type;
    buf[3] = (unsigned char)ndim;
    for (int i = 0; i < ndim; i++) {
        buf[4 + 4 * i] = (unsigned char)(dims[i] >> 24);
        buf[5 + 4 * i] = (unsigned char)(dims[i] >> 16);
        buf[6 + 4 * i] = (unsigned char)(dims[i] >> 8);
        buf[7 + 4 * i] = (unsigned char)dims[i];
    }
    return 4 + 4 * (size_t)ndim;
}

/* gzip-compresses buf[0..n) into gzbuf; returns the compressed length. */
static size_t gzip(size_t n)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    assert_int_equal(deflateInit2(&zs, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY),
                     Z_OK);
    zs.next_in = buf;
    zs.avail_in = (uInt)n;
    zs.next_out = gzbuf;
    zs.avail_out = sizeof gzbuf;
    assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
    size_t len = sizeof gzbuf - zs.avail_out;
    deflateEnd(&zs);
    return len;
}

static nnl_status parse(const unsigned char *b, size_t n)
{
    nnl_error_clear(&err);
    return nnl_idx_parse_buffer(b, n, "f.idx", 1.0f, 0.0f, &t, &err);
}

static int teardown(void **state)
{
    (void)state;
    nnl_tensor_free(t);
    t = NULL;
    assert_int_equal(nnl_alloc_live(), 0);
    return 0;
}

static void test_uint8_3d_plain_and_gzip(void **state)
{
    (void)state;
    uint32_t dims[3] = {2, 3, 4};
    size_t h = header(0x08, 3, dims);
    for (int i = 0; i < 24; i++)
        buf[h + i] = (unsigned char)(i * 11);
    assert_int_equal(parse(buf, h + 24), NNL_OK);
    assert_int_equal(t->ndim, 3);
    assert_int_equal(t->shape[0], 2);
    assert_int_equal(t->shape[1], 3);
    assert_int_equal(t->shape[2], 4);
    for (int i = 0; i < 24; i++)
        assert_true(t->data[i] == (float)(i * 11 % 256));
    nnl_tensor_free(t);
    t = NULL;
    size_t g = gzip(h + 24);
    assert_int_equal(parse(gzbuf, g), NNL_OK);
    assert_int_equal(t->numel, 24);
    for (int i = 0; i < 24; i++)
        assert_true(t->data[i] == (float)(i * 11 % 256));
}

static void test_scale_and_offset(void **state)
{
    (void)state;
    uint32_t dims[1] = {3};
    size_t h = header(0x08, 1, dims);
    buf[h] = 0;
    buf[h + 1] = 255;
    buf[h + 2] = 9;
    assert_int_equal(nnl_idx_parse_buffer(buf, h + 3, "f", 1.0f / 255.0f, 0.0f, &t, &err),
                     NNL_OK);
    assert_true(t->data[0] == 0.0f && t->data[1] == 1.0f);
    nnl_tensor_free(t);
    assert_int_equal(nnl_idx_parse_buffer(buf, h + 3, "f", 1.0f, 1.0f, &t, &err), NNL_OK);
    assert_true(t->data[0] == 1 && t->data[1] == 256 && t->data[2] == 10);
}

static void test_other_types_big_endian(void **state)
{
    (void)state;
    uint32_t dims[1] = {2};
    size_t h = header(0x09, 1, dims); /* int8 */
    buf[h] = 0x80;
    buf[h + 1] = 0x7f;
    assert_int_equal(parse(buf, h + 2), NNL_OK);
    assert_true(t->data[0] == -128 && t->data[1] == 127);
    nnl_tensor_free(t);

    h = header(0x0B, 1, dims); /* int16 */
    memcpy(buf + h, "\xff\xfe\x01\x00", 4);
    assert_int_equal(parse(buf, h + 4), NNL_OK);
    assert_true(t->data[0] == -2 && t->data[1] == 256);
    nnl_tensor_free(t);

    h = header(0x0C, 1, dims); /* int32 */
    memcpy(buf + h, "\xff\xff\xff\xf9\x00\x01\x00\x00", 8);
    assert_int_equal(parse(buf, h + 8), NNL_OK);
    assert_true(t->data[0] == -7 && t->data[1] == 65536);
    nnl_tensor_free(t);

    h = header(0x0D, 1, dims); /* float32: 1.5, -2 */
    memcpy(buf + h, "\x3f\xc0\x00\x00\xc0\x00\x00\x00", 8);
    assert_int_equal(parse(buf, h + 8), NNL_OK);
    assert_true(t->data[0] == 1.5f && t->data[1] == -2.0f);
    nnl_tensor_free(t);

    h = header(0x0E, 1, dims); /* float64: 0.25, -3 */
    memcpy(buf + h, "\x3f\xd0\x00\x00\x00\x00\x00\x00\xc0\x08\x00\x00\x00\x00\x00\x00", 16);
    size_t g;
    assert_int_equal(parse(buf, h + 16), NNL_OK);
    assert_true(t->data[0] == 0.25f && t->data[1] == -3.0f);
    nnl_tensor_free(t);
    t = NULL;
    g = gzip(h + 16); /* multi-byte values across the gzip path */
    assert_int_equal(parse(gzbuf, g), NNL_OK);
    assert_true(t->data[0] == 0.25f && t->data[1] == -3.0f);
}

static void test_large_gzip_crosses_chunks(void **state)
{
    (void)state;
    /* 5 x 7 x 1001 int16 values: 70070 bytes, more than one 64 KB chunk,
     * and an odd chunk boundary for 2-byte values. */
    uint32_t dims[3] = {5, 7, 1001};
    size_t h = header(0x0B, 3, dims);
    size_t n = 5 * 7 * 1001;
    static unsigned char big[4 + 12 + 2 * 35035];
    memcpy(big, buf, h);
    for (size_t i = 0; i < n; i++) {
        int16_t v = (int16_t)((int)(i * 37) % 30000 - 15000);
        big[h + 2 * i] = (unsigned char)((uint16_t)v >> 8);
        big[h + 2 * i + 1] = (unsigned char)v;
    }
    z_stream zs; /* too big for the gzip() helper's buffers */
    memset(&zs, 0, sizeof zs);
    assert_int_equal(deflateInit2(&zs, 1, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY),
                     Z_OK);
    static unsigned char out[1 << 18];
    zs.next_in = big;
    zs.avail_in = (uInt)(h + 2 * n);
    zs.next_out = out;
    zs.avail_out = sizeof out;
    assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
    size_t cap = sizeof out - zs.avail_out;
    deflateEnd(&zs);
    assert_int_equal(parse(out, cap), NNL_OK);
    assert_int_equal(t->numel, n);
    for (size_t i = 0; i < n; i++)
        assert_true(t->data[i] == (float)((int)(i * 37) % 30000 - 15000));
}

static void test_truncated(void **state)
{
    (void)state;
    uint32_t dims[2] = {10, 10};
    size_t h = header(0x08, 2, dims);
    memset(buf + h, 7, 100);
    assert_int_equal(parse(buf, 3), NNL_ERR_FORMAT);
    assert_non_null(strstr(err.msg, "truncated header"));
    assert_int_equal(parse(buf, 8), NNL_ERR_FORMAT);
    assert_non_null(strstr(err.msg, "truncated header"));
    assert_int_equal(parse(buf, h + 99), NNL_ERR_FORMAT);
    assert_non_null(strstr(err.msg, "f.idx"));
    assert_non_null(strstr(err.msg, "99 data bytes"));
    assert_int_equal(parse(buf, h + 101), NNL_ERR_FORMAT); /* extra bytes */
    assert_null(t);
    /* A gzip file cut short anywhere is refused. */
    size_t g = gzip(h + 100);
    for (size_t cut = 0; cut < g; cut++) {
        assert_int_not_equal(parse(gzbuf, cut), NNL_OK);
        assert_null(t);
        assert_true(err.msg[0] != '\0');
    }
}

static void test_wrong_magic_and_type(void **state)
{
    (void)state;
    uint32_t dims[1] = {4};
    size_t h = header(0x08, 1, dims);
    buf[0] = 1;
    assert_int_equal(parse(buf, h + 4), NNL_ERR_FORMAT);
    assert_non_null(strstr(err.msg, "not an IDX file"));
    h = header(0x07, 1, dims);
    assert_int_equal(parse(buf, h + 4), NNL_ERR_FORMAT);
    assert_non_null(strstr(err.msg, "unknown value type 0x07"));
    h = header(0x08, 9, (uint32_t[9]){1, 1, 1, 1, 1, 1, 1, 1, 1});
    assert_int_equal(parse(buf, h + 1), NNL_ERR_UNSUPPORTED);
    assert_non_null(strstr(err.msg, "9 dimensions"));
    /* A gzip file holding something else. */
    memcpy(buf, "hello, world", 12);
    size_t g = gzip(12);
    assert_int_equal(parse(gzbuf, g), NNL_ERR_FORMAT);
    assert_non_null(strstr(err.msg, "not an IDX file"));
}

static void test_zero_dimensions(void **state)
{
    (void)state;
    size_t h = header(0x08, 0, NULL);
    assert_int_equal(parse(buf, h), NNL_ERR_FORMAT);
    assert_non_null(strstr(err.msg, "zero dimensions"));
    uint32_t dims[2] = {3, 0};
    h = header(0x08, 2, dims);
    assert_int_equal(parse(buf, h), NNL_ERR_FORMAT);
    assert_non_null(strstr(err.msg, "dimension 2 is 0"));
    /* No items, an empty file, an empty gzip stream: "no data", saying why */
    uint32_t none[3] = {0, 28, 28};
    h = header(0x08, 3, none);
    assert_int_equal(parse(buf, h), NNL_ERR_FORMAT);
    assert_non_null(strstr(err.msg, "f.idx: no data: dimension 1 is 0, so the file holds "
                           "no items"));
    assert_int_equal(parse(buf, 0), NNL_ERR_FORMAT);
    assert_non_null(strstr(err.msg, "f.idx: no data (the file is empty)"));
    size_t g = gzip(0);
    assert_int_equal(parse(gzbuf, g), NNL_ERR_FORMAT);
    assert_non_null(strstr(err.msg, "f.idx: no data (the gzip stream is empty)"));
    assert_null(t);
}

static void test_sizes_larger_than_file_refused_before_allocating(void **state)
{
    (void)state;
    /* 2^32-1 squared values: must fail on the length check, not in malloc. */
    uint32_t dims[2] = {0xFFFFFFFFu, 0xFFFFFFFFu};
    size_t h = header(0x08, 2, dims);
    nnl_alloc_fail_after(0); /* any allocation attempt would fail with NOMEM */
    nnl_status st = parse(buf, h + 16);
    nnl_alloc_fail_reset();
    assert_int_equal(st, NNL_ERR_FORMAT);
    /* Four dims whose product overflows size_t. */
    uint32_t dims4[4] = {0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu, 2};
    h = header(0x0E, 4, dims4);
    assert_int_equal(parse(buf, h + 8), NNL_ERR_FORMAT);
    assert_non_null(strstr(err.msg, "too large"));
    /* gzip: the header claims 1e9 values but the stream is tiny. */
    uint32_t dims1[1] = {1000000000u};
    h = header(0x08, 1, dims1);
    memset(buf + h, 1, 100);
    size_t g = gzip(h + 100);
    nnl_alloc_fail_after(0);
    st = parse(gzbuf, g);
    nnl_alloc_fail_reset();
    assert_int_equal(st, NNL_ERR_FORMAT);
    assert_non_null(strstr(err.msg, "gzip file records"));
    /* gzip: 65535 x 42009217 x 6700417 = 2^64 - 1 values, and a trailer
     * recording 15 bytes (what header + data wrap around to): refused by
     * the size check, before any allocation */
    uint32_t wrap[3] = {65535u, 42009217u, 6700417u};
    h = header(0x08, 3, wrap);
    memset(buf + h, 1, 100); /* so that zlib is not at the trailer yet */
    g = gzip(h + 100);
    gzbuf[g - 4] = 15;
    gzbuf[g - 3] = gzbuf[g - 2] = gzbuf[g - 1] = 0;
    nnl_alloc_fail_after(0);
    st = parse(gzbuf, g);
    nnl_alloc_fail_reset();
    assert_int_equal(st, NNL_ERR_FORMAT);
    if (!strstr(err.msg, "gzip file records 15 bytes"))
        fail_msg("%s", err.msg);
}

static void test_gzip_longer_than_header(void **state)
{
    (void)state;
    uint32_t dims[1] = {4};
    size_t h = header(0x08, 1, dims);
    memset(buf + h, 3, 8);
    size_t g = gzip(h + 8); /* 4 values too many */
    /* Patch the trailer's size to what the header claims, so only the
     * stream itself shows the lie. */
    uint32_t claim = (uint32_t)(h + 4);
    gzbuf[g - 4] = (unsigned char)claim;
    gzbuf[g - 3] = (unsigned char)(claim >> 8);
    gzbuf[g - 2] = 0;
    gzbuf[g - 1] = 0;
    assert_int_equal(parse(gzbuf, g), NNL_ERR_FORMAT);
    assert_non_null(strstr(err.msg, "more data than the header"));
}

static void test_load_file(void **state)
{
    (void)state;
    char path[] = "/tmp/nnl_test_idx_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    uint32_t dims[2] = {2, 2};
    size_t h = header(0x08, 2, dims);
    memcpy(buf + h, "\x01\x02\x03\x04", 4);
    size_t g = gzip(h + 4);
    FILE *f = fdopen(fd, "wb");
    fwrite(gzbuf, 1, g, f);
    fclose(f);
    assert_int_equal(nnl_idx_load(path, 1.0f, 0.0f, &t, &err), NNL_OK);
    assert_true(t->data[3] == 4);
    nnl_tensor_free(t);
    t = NULL;
    remove(path);
    assert_int_equal(nnl_idx_load(path, 1.0f, 0.0f, &t, &err), NNL_ERR_IO);
    assert_non_null(strstr(err.msg, path));
}

static void test_out_of_memory(void **state)
{
    (void)state;
    uint32_t dims[2] = {3, 3};
    size_t h = header(0x08, 2, dims);
    memset(buf + h, 5, 9);
    size_t g = gzip(h + 9);
    for (long n = 0; n < 10; n++) {
        nnl_alloc_fail_after(n);
        nnl_status st = parse(gzbuf, g);
        nnl_alloc_fail_reset();
        if (st == NNL_OK)
            break;
        assert_int_equal(st, NNL_ERR_NOMEM);
        if (!strstr(err.msg, "f.idx")) /* every message says which file */
            fail_msg("allocation %ld: '%s' does not name the file", n, err.msg);
        assert_null(t);
        assert_int_equal(nnl_alloc_live(), 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_uint8_3d_plain_and_gzip, teardown),
        cmocka_unit_test_teardown(test_scale_and_offset, teardown),
        cmocka_unit_test_teardown(test_other_types_big_endian, teardown),
        cmocka_unit_test_teardown(test_large_gzip_crosses_chunks, teardown),
        cmocka_unit_test_teardown(test_truncated, teardown),
        cmocka_unit_test_teardown(test_wrong_magic_and_type, teardown),
        cmocka_unit_test_teardown(test_zero_dimensions, teardown),
        cmocka_unit_test_teardown(test_sizes_larger_than_file_refused_before_allocating,
                                  teardown),
        cmocka_unit_test_teardown(test_gzip_longer_than_header, teardown),
        cmocka_unit_test_teardown(test_load_file, teardown),
        cmocka_unit_test_teardown(test_out_of_memory, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
