/* Files of named tensors (model/tensorfile.h over model/safetensors.h):
 * hand-built files of every dtype read back as the float32 values worked
 * out here by hand (F16 subnormals and infinities, F64 beyond float's
 * range, integers above 2^24, BOOL bytes other than 0 and 1), scalars and
 * empty tensors; every kind of malformed file refused with a message that
 * names the file and the tensor or field (header length, JSON, dtype,
 * shape, offsets, overlaps, holes, trailing bytes, duplicates, metadata);
 * the byte layout of a saved file (little-endian length, space padding to
 * 8, sorted names, offsets, raw little-endian floats); saving errors and a
 * failed save leaving the old file as it was; out of memory at every
 * allocation of a load; ranges and permutations of tensor_make.c. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <float.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include "core/alloc.h"
#include "core/rng.h"
#include "model/modelfile.h"
#include "model/tensorfile.h"

static char tmpdir[256];

/* A file in memory: the 8-byte little-endian length of json, json, then
 * dlen bytes of data. */
typedef struct blob {
    unsigned char *b;
    size_t n;
} blob;

static blob mk(const char *json, const void *data, size_t dlen)
{
    size_t h = strlen(json);
    blob f = {malloc(8 + h + dlen + 1), 8 + h + dlen};
    assert_non_null(f.b);
    for (int k = 0; k < 8; k++)
        f.b[k] = (unsigned char)((uint64_t)h >> (8 * k));
    memcpy(f.b + 8, json, h);
    if (dlen)
        memcpy(f.b + 8 + h, data, dlen);
    return f;
}

/* One tensor "x" of dtype dt and shape text shape over data. */
static blob mk1(const char *dt, const char *shape, const void *data, size_t dlen)
{
    char json[256];
    snprintf(json, sizeof json,
             "{\"x\":{\"dtype\":\"%s\",\"shape\":%s,\"data_offsets\":[0,%zu]}}", dt, shape,
             dlen);
    return mk(json, data, dlen);
}

static void load_ok(blob f, nnl_tensorfile *tf)
{
    nnl_error err;
    nnl_status st = nnl_tensorfile_load_mem(f.b, f.n, "t.st", tf, &err);
    if (st != NNL_OK)
        fail_msg("load failed: %s", err.msg);
    free(f.b);
}

/* The file must be refused as NNL_ERR_FORMAT with a message starting with
 * the file's name and containing want; nothing is left allocated. */
static void load_bad(blob f, const char *want)
{
    nnl_error err;
    nnl_tensorfile tf;
    long live = nnl_alloc_live();
    nnl_status st = nnl_tensorfile_load_mem(f.b, f.n, "t.st", &tf, &err);
    free(f.b);
    if (st == NNL_OK)
        fail_msg("loaded, expected an error containing '%s'", want);
    assert_int_equal(st, NNL_ERR_FORMAT);
    if (strncmp(err.msg, "'t.st': ", 8) != 0 || !strstr(err.msg, want))
        fail_msg("message '%s' does not start with the file and contain '%s'", err.msg, want);
    assert_int_equal(tf.n, 0);
    assert_null(tf.items);
    assert_int_equal(nnl_alloc_live(), live);
}

static void le_bytes(unsigned char *b, uint64_t v, int n)
{
    for (int k = 0; k < n; k++)
        b[k] = (unsigned char)(v >> (8 * k));
}

/* Values of one dtype: n elements of size es from raw (host integers),
 * written little-endian, must load as want. */
static void check_dtype(const char *dt, int es, const uint64_t *raw, const float *want, int n)
{
    unsigned char data[128];
    for (int i = 0; i < n; i++)
        le_bytes(data + i * es, raw[i], es);
    char shape[32];
    snprintf(shape, sizeof shape, "[%d]", n);
    nnl_tensorfile tf;
    load_ok(mk1(dt, shape, data, (size_t)(n * es)), &tf);
    assert_int_equal(tf.n, 1);
    assert_string_equal(tf.items[0].name, "x");
    nnl_tensor *t = tf.items[0].t;
    assert_int_equal(t->ndim, 1);
    assert_int_equal(t->shape[0], (size_t)n);
    for (int i = 0; i < n; i++) {
        float g = t->data[i];
        int same = isnan(want[i]) ? isnan(g) : g == want[i] && signbit(g) == signbit(want[i]);
        if (!same)
            fail_msg("%s element %d: got %.9g, want %.9g", dt, i, (double)g, (double)want[i]);
    }
    nnl_tensorfile_free(&tf);
}

static uint64_t f64_bits(double d)
{
    uint64_t u;
    memcpy(&u, &d, 8);
    return u;
}

static uint64_t f32_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static void test_every_dtype(void **state)
{
    (void)state;
    {
        uint64_t r[] = {f32_bits(1.5f), f32_bits(-2.0f), f32_bits(INFINITY), f32_bits(-0.0f),
                        f32_bits(1e-45f)};
        float w[] = {1.5f, -2.0f, INFINITY, -0.0f, 1e-45f};
        check_dtype("F32", 4, r, w, 5);
    }
    {
        /* 0.1 rounds to float's 0.1; beyond FLT_MAX by less than half its
         * last place rounds to FLT_MAX, further to infinity */
        double just_above = (double)FLT_MAX + ldexp(1.0, 102);
        uint64_t r[] = {f64_bits(0.1), f64_bits(1e300), f64_bits(-1e300), f64_bits(just_above),
                        f64_bits(-just_above), f64_bits(NAN), f64_bits(1e-50)};
        float w[] = {0.1f, INFINITY, -INFINITY, FLT_MAX, -FLT_MAX, NAN, 0.0f};
        check_dtype("F64", 8, r, w, 7);
    }
    {
        /* 1, -2, the smallest subnormal 2^-24, the largest 65504, 1/3 as
         * a half (0x3555 = 1365/4096), inf, -inf, nan, -0 */
        uint64_t r[] = {0x3c00, 0xc000, 0x0001, 0x7bff, 0x3555, 0x7c00, 0xfc00, 0x7e00, 0x8000,
                        0x03ff};
        float w[] = {1.0f, -2.0f, 0x1p-24f, 65504.0f, 1365.0f / 4096.0f, INFINITY, -INFINITY,
                     NAN, -0.0f, 1023 * 0x1p-24f};
        check_dtype("F16", 2, r, w, 10);
    }
    {
        uint64_t r[] = {0x3f80, 0xc040, 0x7f80, 0x3e20};
        float w[] = {1.0f, -3.0f, INFINITY, 0.15625f};
        check_dtype("BF16", 2, r, w, 4);
    }
    {
        /* 2^24 + 1 is not a float: rounds (to even) to 2^24 */
        uint64_t r[] = {(uint64_t)-5, (uint64_t)1 << 40, 16777217, (uint64_t)INT64_MIN};
        float w[] = {-5.0f, 0x1p40f, 16777216.0f, -0x1p63f};
        check_dtype("I64", 8, r, w, 4);
    }
    {
        uint64_t r[] = {0x80000000u, 7, 0xffffffffu};
        float w[] = {-2147483648.0f, 7.0f, -1.0f};
        check_dtype("I32", 4, r, w, 3);
    }
    {
        uint64_t r[] = {0x8000, 0x7fff, 0xffff};
        float w[] = {-32768.0f, 32767.0f, -1.0f};
        check_dtype("I16", 2, r, w, 3);
    }
    {
        uint64_t r[] = {0x80, 0x7f, 0xff, 0};
        float w[] = {-128.0f, 127.0f, -1.0f, 0.0f};
        check_dtype("I8", 1, r, w, 4);
    }
    {
        uint64_t r[] = {0, 255, 128};
        float w[] = {0.0f, 255.0f, 128.0f};
        check_dtype("U8", 1, r, w, 3);
    }
    {
        uint64_t r[] = {65535, 1};
        float w[] = {65535.0f, 1.0f};
        check_dtype("U16", 2, r, w, 2);
    }
    {
        uint64_t r[] = {0xffffffffu, 3};
        float w[] = {4294967296.0f, 3.0f};
        check_dtype("U32", 4, r, w, 2);
    }
    {
        uint64_t r[] = {UINT64_MAX, 9};
        float w[] = {0x1p64f, 9.0f};
        check_dtype("U64", 8, r, w, 2);
    }
    {
        uint64_t r[] = {0, 1, 2, 255};
        float w[] = {0.0f, 1.0f, 1.0f, 1.0f};
        check_dtype("BOOL", 1, r, w, 4);
    }
}

static void test_shapes_and_layout(void **state)
{
    (void)state;
    /* a scalar loads as [1]; an empty [0, 3] tensor takes no bytes; a 2-D
     * one in row-major order; the metadata comes back in order; the names
     * sorted */
    unsigned char d[4 + 24];
    float v[7] = {42.0f, 1, 2, 3, 4, 5, 6};
    for (int i = 0; i < 7; i++)
        le_bytes(d + 4 * i, f32_bits(v[i]), 4);
    const char *json =
        "{\"__metadata__\":{\"b\":\"2\",\"a\":\"one\"},"
        "\"s\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]},"
        "\"m\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[4,28]},"
        "\"e\":{\"dtype\":\"I8\",\"shape\":[0,3],\"data_offsets\":[28,28]}}    ";
    nnl_tensorfile tf;
    load_ok(mk(json, d, sizeof d), &tf);
    assert_int_equal(tf.n, 3);
    assert_string_equal(tf.items[0].name, "e");
    assert_string_equal(tf.items[1].name, "m");
    assert_string_equal(tf.items[2].name, "s");
    nnl_tensor *e = tf.items[0].t, *m = tf.items[1].t, *s = tf.items[2].t;
    assert_int_equal(e->ndim, 2);
    assert_int_equal(e->shape[0], 0);
    assert_int_equal(e->shape[1], 3);
    assert_int_equal(e->numel, 0);
    assert_int_equal(m->ndim, 2);
    assert_int_equal(m->shape[0], 2);
    assert_int_equal(m->shape[1], 3);
    for (int i = 0; i < 6; i++)
        assert_true(m->data[i] == (float)(i + 1));
    assert_int_equal(s->ndim, 1);
    assert_int_equal(s->shape[0], 1);
    assert_true(s->data[0] == 42.0f);
    assert_int_equal(tf.nmeta, 2);
    assert_string_equal(tf.meta_keys[0], "b");
    assert_string_equal(tf.meta_values[0], "2");
    assert_string_equal(tf.meta_keys[1], "a");
    assert_string_equal(tf.meta_values[1], "one");
    nnl_tensorfile_free(&tf);

    /* 8 dimensions are read; nothing at all (just "{}") is an empty file */
    float one = 7.0f;
    load_ok(mk1("F32", "[1,1,1,1,1,1,1,1]", &one, 4), &tf);
    assert_int_equal(tf.items[0].t->ndim, 8);
    assert_true(tf.items[0].t->data[0] == 7.0f);
    nnl_tensorfile_free(&tf);
    load_ok(mk("{}", NULL, 0), &tf);
    assert_int_equal(tf.n, 0);
    assert_int_equal(tf.nmeta, 0);
    nnl_tensorfile_free(&tf);
}

static void test_malformed(void **state)
{
    (void)state;
    unsigned char z[64] = {0};
    blob f;
    /* the length */
    f.b = malloc(5);
    f.n = 5;
    memcpy(f.b, "abcde", 5);
    load_bad(f, "the file has 5 bytes, too few for a safetensors header");
    f = mk("{}", NULL, 0);
    le_bytes(f.b, (uint64_t)200 << 20, 8);
    load_bad(f, "header length 209715200 is above the limit");
    f = mk("{}", NULL, 0);
    le_bytes(f.b, UINT64_MAX, 8);
    load_bad(f, "is above the limit");
    f = mk("{}  ", NULL, 0);
    le_bytes(f.b, 5, 8);
    load_bad(f, "header length 5 is beyond the end of the file (4 bytes follow the length)");
    f = mk("{}", NULL, 0);
    le_bytes(f.b, 1, 8);
    load_bad(f, "header length 1 is too small for a JSON object");
    /* the JSON */
    load_bad(mk("{\"x\":", NULL, 0), "the header is not valid JSON");
    load_bad(mk("{} x", NULL, 0), "the header has text after its JSON object (at byte 3)");
    load_bad(mk("[1, 2]", NULL, 0), "the header is not a JSON object");
    load_bad(mk("{\"x\": 3}", NULL, 0),
             "tensor 'x': expected an object with dtype, shape and data_offsets");
    /* dtype */
    load_bad(mk("{\"x\":{\"shape\":[1],\"data_offsets\":[0,4]}}", z, 4),
             "tensor 'x': dtype is missing or not a string");
    load_bad(mk1("F8_E4M3", "[1]", z, 1), "tensor 'x' has dtype F8_E4M3; nnlua reads F32");
    load_bad(mk1("f32", "[1]", z, 4), "tensor 'x' has dtype f32");
    /* shape */
    load_bad(mk("{\"x\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", z, 4),
             "tensor 'x': shape is missing or not a list");
    load_bad(mk1("F32", "4", z, 4), "tensor 'x': shape is missing or not a list");
    load_bad(mk1("U8", "[1,1,1,1,1,1,1,1,1]", z, 1),
             "tensor 'x': shape has 9 dimensions (at most 8)");
    load_bad(mk1("F32", "[-1]", z, 4), "tensor 'x': shape[0] is not a size");
    load_bad(mk1("F32", "[1.5]", z, 4), "tensor 'x': shape[0] is not a size");
    load_bad(mk1("F32", "[1, \"2\"]", z, 8), "tensor 'x': shape[1] is not a size");
    load_bad(mk1("F32", "[1e300]", z, 4), "tensor 'x': shape[0] is not a size");
    /* a shape whose product overflows 64 bits, or needs more than the
     * data: refused before anything is allocated */
    load_bad(mk1("F32", "[4294967296,4294967296,4294967296]", z, 4),
             "tensor 'x': its shape needs more bytes than the data has (4)");
    load_bad(mk1("U8", "[1000000000000]", z, 4),
             "tensor 'x': its shape needs more bytes than the data has (4)");
    load_bad(mk1("F64", "[1]", z, 4), "tensor 'x': its shape needs more bytes");
    /* data_offsets */
    load_bad(mk("{\"x\":{\"dtype\":\"F32\",\"shape\":[1]}}", z, 4),
             "tensor 'x': data_offsets must be [begin, end], two whole numbers");
    load_bad(mk("{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", z, 4),
             "tensor 'x': data_offsets must be [begin, end]");
    load_bad(mk("{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,-4]}}", z, 4),
             "tensor 'x': data_offsets must be [begin, end]");
    load_bad(mk("{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,0]}}", z, 4),
             "tensor 'x': data_offsets [4, 0] are outside the data (4 bytes)");
    load_bad(mk("{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,8]}}", z, 4),
             "tensor 'x': data_offsets [0, 8] are outside the data (4 bytes)");
    load_bad(mk("{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,2]}}", z, 4),
             "tensor 'x': shape [1] needs 4 bytes as F32 but data_offsets [0, 2] hold 2");
    load_bad(mk("{\"x\":{\"dtype\":\"I16\",\"shape\":[2,3],\"data_offsets\":[0,8]}}", z, 12),
             "tensor 'x': shape [2, 3] needs 12 bytes as I16 but data_offsets [0, 8] hold 8");
    /* coverage of the data */
    load_bad(mk("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", z, 12),
             "tensors 'a' and 'b' overlap (data_offsets [0, 8] and [4, 12])");
    load_bad(mk("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", z, 8),
             "tensors 'a' and 'b' overlap");
    load_bad(mk("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}", z, 12),
             "bytes 4 to 8 of the data belong to no tensor");
    f = mk("{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", z, 6);
    load_bad(f, "the data has 2 bytes after the last tensor");
    load_bad(mk("{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", z, 8),
             "bytes 0 to 4 of the data belong to no tensor");
    load_bad(mk("{}", z, 3), "the data has 3 bytes but the header lists no tensors");
    /* names and metadata */
    load_bad(mk("{\"x\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]},"
                "\"x\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[1,2]}}", z, 2),
             "tensor 'x' appears twice");
    load_bad(mk("{\"__metadata__\":[]}", NULL, 0), "__metadata__ is not an object");
    load_bad(mk("{\"__metadata__\":{\"k\":1}}", NULL, 0),
             "__metadata__ value 'k' is not a string");
    load_bad(mk("{\"__metadata__\":{},\"__metadata__\":{}}", NULL, 0),
             "__metadata__ appears twice");
}

static void test_truncated_anywhere(void **state)
{
    (void)state;
    /* a valid two-tensor file cut at every length: always refused, never
     * read past the end */
    unsigned char d[20] = {0};
    blob full = mk("{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,12]},"
                   "\"b\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[12,20]}}", d, 20);
    for (size_t n = 0; n < full.n; n++) {
        nnl_error err;
        nnl_tensorfile tf;
        unsigned char *cut = malloc(n ? n : 1);
        memcpy(cut, full.b, n);
        nnl_status st = nnl_tensorfile_load_mem(cut, n, "cut", &tf, &err);
        free(cut);
        if (st == NNL_OK)
            fail_msg("a file cut to %zu of %zu bytes loaded", n, full.n);
        assert_int_equal(st, NNL_ERR_FORMAT);
        assert_int_equal(strncmp(err.msg, "'cut': ", 7), 0);
    }
    nnl_tensorfile tf;
    load_ok(full, &tf);
    assert_int_equal(tf.n, 2);
    nnl_tensorfile_free(&tf);
}

static void test_model_files_still_only_f32(void **state)
{
    (void)state;
    unsigned char z[2] = {0};
    blob f = mk1("F16", "[1]", z, 2);
    nnl_error err;
    assert_null(nnl_modelfile_load_mem(f.b, f.n, "m.st", NULL, &err));
    assert_non_null(strstr(err.msg, "'m.st': tensor 'x' has dtype F16; nnlua reads only F32"));
    free(f.b);
}

static blob read_all(const char *path)
{
    blob f = {NULL, 0};
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    fseek(fp, 0, SEEK_END);
    f.n = (size_t)ftell(fp);
    fseek(fp, 0, SEEK_SET);
    f.b = malloc(f.n + 1);
    assert_int_equal(fread(f.b, 1, f.n, fp), f.n);
    fclose(fp);
    return f;
}

static size_t count_files(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    size_t n = 0;
    for (struct dirent *e; (e = readdir(d));)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

static nnl_tensor *seq(int nd, const size_t *shape, float first)
{
    nnl_error err;
    nnl_tensor *t = nnl_tensor_new(nd, shape, &err);
    assert_non_null(t);
    for (size_t i = 0; i < t->numel; i++)
        t->data[i] = first + (float)i;
    return t;
}

static void test_save_layout_and_round_trip(void **state)
{
    (void)state;
    char dir[300], path[400];
    snprintf(dir, sizeof dir, "%s/save", tmpdir);
    assert_int_equal(mkdir(dir, 0755), 0);
    snprintf(path, sizeof path, "%s/t.safetensors", dir);
    size_t s1[] = {2, 3}, s2[] = {3}, s3[] = {0, 2};
    nnl_tensor *w = seq(2, s1, 0.5f), *b = seq(1, s2, -1.0f), *e = seq(2, s3, 0);
    const char *names[] = {"w", "b", "e"};
    const nnl_tensor *ts[] = {w, b, e};
    const char *mk_[] = {"who"}, *mv[] = {"test"};
    nnl_error err;
    assert_int_equal(nnl_tensorfile_save(path, names, ts, 3, mk_, mv, 1, &err), NNL_OK);
    blob f = read_all(path);
    uint64_t h = 0;
    for (int k = 7; k >= 0; k--)
        h = (h << 8) | f.b[k];
    assert_int_equal(h % 8, 0);
    assert_int_equal(f.n, 8 + h + (6 + 3) * 4);
    char *json = malloc(h + 1);
    memcpy(json, f.b + 8, h);
    json[h] = '\0';
    /* sorted by name: b, e, w; F32; offsets back to back; space padding */
    const char *want = "{\"__metadata__\":{\"who\":\"test\"},"
                       "\"b\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,12]},"
                       "\"e\":{\"dtype\":\"F32\",\"shape\":[0,2],\"data_offsets\":[12,12]},"
                       "\"w\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[12,36]}}";
    assert_int_equal(strncmp(json, want, strlen(want)), 0);
    for (size_t i = strlen(want); i < h; i++)
        assert_int_equal(json[i], ' ');
    free(json);
    const unsigned char *data = f.b + 8 + h;
    for (int i = 0; i < 9; i++) {
        float v = i < 3 ? -1.0f + (float)i : 0.5f + (float)(i - 3);
        uint32_t u = (uint32_t)data[4 * i] | (uint32_t)data[4 * i + 1] << 8 |
                     (uint32_t)data[4 * i + 2] << 16 | (uint32_t)data[4 * i + 3] << 24;
        assert_int_equal(u, f32_bits(v));
    }
    free(f.b);
    nnl_tensorfile tf;
    assert_int_equal(nnl_tensorfile_load(path, &tf, &err), NNL_OK);
    assert_int_equal(tf.n, 3);
    assert_string_equal(tf.items[2].name, "w");
    assert_int_equal(tf.items[2].t->shape[1], 3);
    assert_memory_equal(tf.items[2].t->data, w->data, 6 * sizeof(float));
    assert_memory_equal(tf.items[0].t->data, b->data, 3 * sizeof(float));
    assert_int_equal(tf.items[1].t->numel, 0);
    assert_string_equal(tf.meta_values[0], "test");
    nnl_tensorfile_free(&tf);
    assert_int_equal(count_files(dir), 1); /* no temporary left */

    /* errors of saving, none touching the file */
    blob before = read_all(path);
    const char *dup_names[] = {"w", "w"};
    assert_int_equal(nnl_tensorfile_save(path, dup_names, ts, 2, NULL, NULL, 0, &err),
                     NNL_ERR_ARG);
    assert_non_null(strstr(err.msg, "tensor name 'w' appears twice"));
    const char *meta_name[] = {"__metadata__"};
    assert_int_equal(nnl_tensorfile_save(path, meta_name, ts, 1, NULL, NULL, 0, &err),
                     NNL_ERR_ARG);
    assert_non_null(strstr(err.msg, "'__metadata__'"));
    const char *dk[] = {"k", "k"}, *dv[] = {"1", "2"};
    assert_int_equal(nnl_tensorfile_save(path, names, ts, 1, dk, dv, 2, &err), NNL_ERR_ARG);
    assert_non_null(strstr(err.msg, "metadata key 'k' appears twice"));
    assert_int_equal(nnl_tensorfile_save("", names, ts, 1, NULL, NULL, 0, &err), NNL_ERR_ARG);
    char nowhere[500];
    snprintf(nowhere, sizeof nowhere, "%s/no/such/dir/t.safetensors", dir);
    assert_int_equal(nnl_tensorfile_save(nowhere, names, ts, 1, NULL, NULL, 0, &err),
                     NNL_ERR_IO);
    assert_non_null(strstr(err.msg, nowhere));

    /* a save cut short by a file size limit (as a full disk) keeps the old
     * file and leaves no temporary */
    size_t sbig[] = {100000};
    nnl_tensor *big = seq(1, sbig, 0);
    const nnl_tensor *bts[] = {big};
    struct rlimit old, lim;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    lim = old;
    lim.rlim_cur = 64 * 1024;
    void (*prev)(int) = signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    nnl_status st = nnl_tensorfile_save(path, names, bts, 1, NULL, NULL, 0, &err);
    setrlimit(RLIMIT_FSIZE, &old);
    signal(SIGXFSZ, prev);
    assert_int_equal(st, NNL_ERR_IO);
    blob after = read_all(path);
    assert_int_equal(before.n, after.n);
    assert_memory_equal(before.b, after.b, before.n);
    free(before.b);
    free(after.b);
    assert_int_equal(count_files(dir), 1);
    nnl_tensor_free(big);

    /* loading: a missing file and a folder name the path */
    snprintf(nowhere, sizeof nowhere, "%s/missing.safetensors", dir);
    assert_int_equal(nnl_tensorfile_load(nowhere, &tf, &err), NNL_ERR_IO);
    assert_non_null(strstr(err.msg, nowhere));
    assert_int_not_equal(nnl_tensorfile_load(dir, &tf, &err), NNL_OK);
    assert_non_null(strstr(err.msg, dir));
    nnl_tensor_free(w);
    nnl_tensor_free(b);
    nnl_tensor_free(e);
}

static void test_out_of_memory_in_load(void **state)
{
    (void)state;
    unsigned char d[16] = {0};
    blob f = mk("{\"__metadata__\":{\"k\":\"v\"},"
                "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                "\"b\":{\"dtype\":\"F16\",\"shape\":[4],\"data_offsets\":[8,16]}}", d, 16);
    long live = nnl_alloc_live();
    int failures = 0;
    for (long n = 0; n < 200; n++) {
        nnl_error err;
        nnl_tensorfile tf;
        nnl_alloc_fail_after(n);
        nnl_status st = nnl_tensorfile_load_mem(f.b, f.n, "oom", &tf, &err);
        nnl_alloc_fail_reset();
        if (st == NNL_OK) {
            assert_int_equal(tf.n, 2);
            nnl_tensorfile_free(&tf);
            break;
        }
        failures++;
        assert_int_equal(st, NNL_ERR_NOMEM);
        assert_non_null(strstr(err.msg, "'oom'"));
        assert_int_equal(nnl_alloc_live(), live);
    }
    assert_true(failures >= 5); /* ents, items, meta, names, tensors */
    assert_int_equal(nnl_alloc_live(), live);
    free(f.b);
}

static void test_make(void **state)
{
    (void)state;
    nnl_error err;
    /* numpy's counts: ceil((stop - start) / step) */
    struct { double a, b, s; size_t n; float first, last; } c[] = {
        {2, 5, 1, 3, 2, 4},       {0, 1, 0.25, 4, 0, 0.75}, {5, 0, -1.5, 4, 5, 0.5},
        {3, 1, 1, 0, 0, 0},       {0, 1, 0.3, 4, 0, 0.9f},  {-1, -1, 1, 0, 0, 0},
        {1, 2, -1, 0, 0, 0},      {0, 10, 3, 4, 0, 9},
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        nnl_tensor *t = nnl_tensor_arange_step(c[i].a, c[i].b, c[i].s, &err);
        assert_non_null(t);
        if (t->numel != c[i].n)
            fail_msg("arange(%g, %g, %g): %zu elements, want %zu", c[i].a, c[i].b, c[i].s,
                     t->numel, c[i].n);
        if (c[i].n) {
            assert_true(t->data[0] == c[i].first);
            assert_true(fabsf(t->data[c[i].n - 1] - c[i].last) < 1e-6f);
        }
        nnl_tensor_free(t);
    }
    assert_null(nnl_tensor_arange_step(0, 1, 0, &err));
    assert_string_equal(err.msg, "arange: step must not be 0");
    assert_null(nnl_tensor_arange_step(0, INFINITY, 1, &err));
    assert_non_null(strstr(err.msg, "must be finite"));
    assert_null(nnl_tensor_arange_step(0, 1e300, 1e-300, &err));
    assert_non_null(strstr(err.msg, "must be within float32's range"));
    assert_null(nnl_tensor_arange_step(0, 1e30, 1, &err));
    assert_non_null(strstr(err.msg, "are too many"));

    /* a permutation of 0..n-1, reproducible from the seed */
    nnl_rng_global_seed(5);
    nnl_tensor *p = nnl_tensor_randperm(1000, &err), *q;
    char seen[1000] = {0};
    for (size_t i = 0; i < 1000; i++) {
        float v = p->data[i];
        assert_true(v >= 0 && v < 1000 && v == floorf(v) && !seen[(int)v]);
        seen[(int)v] = 1;
    }
    nnl_rng_global_seed(5);
    q = nnl_tensor_randperm(1000, &err);
    assert_memory_equal(p->data, q->data, 1000 * sizeof(float));
    nnl_tensor_free(p);
    nnl_tensor_free(q);
    assert_null(nnl_tensor_randperm(NNL_TENSOR_EXACT_INT + 1, &err));
    assert_non_null(strstr(err.msg, "randperm: n = 16777217 is above 16777216"));
    p = nnl_tensor_randperm(0, &err);
    assert_int_equal(p->numel, 0);
    nnl_tensor_free(p);

    /* randint: every value in range, every one of -2..2 drawn */
    p = nnl_tensor_new1(5000, &err);
    nnl_tensor_randint(p, -2, 2);
    int hits[5] = {0};
    for (size_t i = 0; i < p->numel; i++) {
        float v = p->data[i];
        assert_true(v >= -2 && v <= 2 && v == floorf(v));
        hits[(int)v + 2]++;
    }
    for (int k = 0; k < 5; k++)
        assert_true(hits[k] > 800 && hits[k] < 1200); /* 1000 expected, sd 28 */
    nnl_tensor_randint(p, 7, 7);
    for (size_t i = 0; i < p->numel; i++)
        assert_true(p->data[i] == 7.0f);
    nnl_tensor_free(p);
}

static int setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/nnl_stio_XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_dtype),
        cmocka_unit_test(test_shapes_and_layout),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_truncated_anywhere),
        cmocka_unit_test(test_model_files_still_only_f32),
        cmocka_unit_test(test_save_layout_and_round_trip),
        cmocka_unit_test(test_out_of_memory_in_load),
        cmocka_unit_test(test_make),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
