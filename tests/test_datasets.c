/* The named data sets (iris and digits compiled in, Fashion-MNIST from
 * files), the generators and the preparation helpers (one_hot, split,
 * shuffle, standardize). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <cmocka.h>

#include "core/alloc.h"
#include "core/rng.h"
#include "data/datasets.h"
#include "data/generators.h"
#include "data/prep.h"

static nnl_error err;

static int check_no_leaks(void **state)
{
    (void)state;
    assert_int_equal(nnl_alloc_live(), 0);
    return 0;
}

static void test_iris_is_150x4_three_species(void **state)
{
    (void)state;
    nnl_csv_result r;
    assert_int_equal(nnl_data_shipped("iris", &r, &err), NNL_OK);
    assert_int_equal(r.x->shape[0], 150);
    assert_int_equal(r.x->shape[1], 4);
    assert_int_equal(r.nclasses, 3);
    assert_string_equal(r.classes[0], "setosa");
    assert_string_equal(r.classes[1], "versicolor");
    assert_string_equal(r.classes[2], "virginica");
    assert_string_equal(r.columns[0], "sepal_length");
    assert_string_equal(r.label_column, "species");
    int count[4] = {0};
    for (size_t i = 0; i < 150; i++)
        count[(int)r.y->data[i]]++;
    assert_true(count[1] == 50 && count[2] == 50 && count[3] == 50);
    assert_true(r.x->data[0] == 5.1f && r.x->data[3] == 0.2f); /* first row */
    nnl_csv_result_free(&r);
}

static void test_digits_is_1797x64_ten_classes(void **state)
{
    (void)state;
    nnl_csv_result r;
    assert_int_equal(nnl_data_shipped("digits", &r, &err), NNL_OK);
    assert_int_equal(r.x->shape[0], 1797);
    assert_int_equal(r.x->shape[1], 64);
    assert_int_equal(r.nclasses, 10);
    assert_string_equal(r.classes[0], "0");
    assert_string_equal(r.classes[9], "9");
    float lo = 1e9f, hi = -1e9f;
    for (size_t i = 0; i < r.x->numel; i++) {
        lo = fminf(lo, r.x->data[i]);
        hi = fmaxf(hi, r.x->data[i]);
    }
    assert_true(lo == 0 && hi == 16);
    for (size_t i = 0; i < 1797; i++)
        assert_true(r.y->data[i] >= 1 && r.y->data[i] <= 10);
    nnl_csv_result_free(&r);
    assert_int_equal(nnl_data_shipped("mnist", &r, &err), NNL_ERR_ARG);
    assert_non_null(strstr(err.msg, "iris and digits"));
}

/* Writes a gzip IDX file of uint8 values. */
static void write_idx_gz(const char *path, int ndim, const uint32_t *dims,
                         const unsigned char *data, size_t n)
{
    gzFile g = gzopen(path, "wb");
    assert_non_null(g);
    unsigned char h[4 + 16] = {0, 0, 8, (unsigned char)ndim};
    for (int i = 0; i < ndim; i++) {
        h[4 + 4 * i] = (unsigned char)(dims[i] >> 24);
        h[5 + 4 * i] = (unsigned char)(dims[i] >> 16);
        h[6 + 4 * i] = (unsigned char)(dims[i] >> 8);
        h[7 + 4 * i] = (unsigned char)dims[i];
    }
    assert_true(gzwrite(g, h, (unsigned)(4 + 4 * ndim)) > 0);
    assert_true(gzwrite(g, data, (unsigned)n) > 0);
    gzclose(g);
}

static void test_fashion_from_a_folder(void **state)
{
    (void)state;
    char dir[] = "/tmp/nnl_fashion_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char p[4][256];
    const char *names[4] = {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                            "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"};
    for (int i = 0; i < 4; i++)
        snprintf(p[i], sizeof p[i], "%s/%s", dir, names[i]);
    static unsigned char img[5 * 784];
    for (size_t i = 0; i < sizeof img; i++)
        img[i] = (unsigned char)(i % 256);
    unsigned char lab[5] = {0, 9, 3, 3, 1};
    write_idx_gz(p[0], 3, (uint32_t[3]){5, 28, 28}, img, 5 * 784);
    write_idx_gz(p[1], 1, (uint32_t[1]){5}, lab, 5);
    write_idx_gz(p[2], 3, (uint32_t[3]){2, 28, 28}, img, 2 * 784);
    write_idx_gz(p[3], 1, (uint32_t[1]){2}, lab, 2);

    nnl_fashion f;
    assert_int_equal(nnl_fashion_load(dir, 1, &f, &err), NNL_OK);
    assert_int_equal(f.x_train->ndim, 2);
    assert_int_equal(f.x_train->shape[0], 5);
    assert_int_equal(f.x_train->shape[1], 784);
    assert_int_equal(f.x_test->shape[0], 2);
    assert_true(f.y_train->data[0] == 1 && f.y_train->data[1] == 10); /* 0..9 -> 1..10 */
    assert_true(f.x_train->data[255] == 1.0f && f.x_train->data[0] == 0.0f);
    assert_true(fabsf(f.x_train->data[100] - 100.0f / 255.0f) < 1e-7f);
    nnl_fashion_free(&f);
    assert_int_equal(nnl_fashion_load(dir, 0, &f, &err), NNL_OK);
    assert_int_equal(f.x_train->ndim, 4);
    assert_int_equal(f.x_train->shape[0], 5);
    assert_int_equal(f.x_train->shape[1], 28);
    assert_int_equal(f.x_train->shape[2], 28);
    assert_int_equal(f.x_train->shape[3], 1);
    assert_int_equal(f.x_test->ndim, 4);
    assert_int_equal(f.x_test->shape[0], 2);
    assert_true(fabsf(f.x_train->data[100] - 100.0f / 255.0f) < 1e-7f);
    nnl_fashion_free(&f);
    assert_string_equal(nnl_fashion_classes[0], "T-shirt/top");
    assert_string_equal(nnl_fashion_classes[9], "Ankle boot");

    /* Through $NNLUA_DATA when no folder is given. */
    setenv("NNLUA_DATA", dir, 1);
    assert_int_equal(nnl_fashion_load(NULL, 1, &f, &err), NNL_OK);
    assert_int_equal(f.y_test->shape[0], 2);
    nnl_fashion_free(&f);

    /* A label out of range and a count mismatch are refused. */
    unsigned char badlab[5] = {0, 10, 0, 0, 0};
    write_idx_gz(p[1], 1, (uint32_t[1]){5}, badlab, 5);
    assert_int_equal(nnl_fashion_load(dir, 1, &f, &err), NNL_ERR_FORMAT);
    assert_non_null(strstr(err.msg, "label 2 is 10"));
    write_idx_gz(p[1], 1, (uint32_t[1]){4}, lab, 4);
    assert_int_equal(nnl_fashion_load(dir, 1, &f, &err), NNL_ERR_FORMAT);
    assert_non_null(strstr(err.msg, "4 labels for 5 images"));

    /* Missing files: the message says how to get them. */
    remove(p[3]);
    assert_int_equal(nnl_fashion_load(dir, 1, &f, &err), NNL_ERR_IO);
    char empty[] = "/tmp/nnl_fashion_empty_XXXXXX";
    assert_non_null(mkdtemp(empty));
    setenv("NNLUA_DATA", empty, 1);
    nnl_status st = nnl_fashion_load(NULL, 1, &f, &err);
    if (access(NNL_FASHION_SYSTEM_DIR "/train-images-idx3-ubyte.gz", R_OK) != 0) {
        assert_int_equal(st, NNL_ERR_IO);
        assert_non_null(strstr(err.msg, "apt-get install dataset-fashion-mnist"));
        assert_non_null(strstr(err.msg, "NNLUA_DATA"));
        assert_non_null(strstr(err.msg, empty));
    } else {
        assert_int_equal(st, NNL_OK); /* falls back to the system install */
        nnl_fashion_free(&f);
    }
    unsetenv("NNLUA_DATA");
    for (int i = 0; i < 3; i++)
        remove(p[i]);
    rmdir(dir);
    rmdir(empty);
}

static void test_fashion_system_install(void **state)
{
    (void)state;
    if (access(NNL_FASHION_SYSTEM_DIR "/train-images-idx3-ubyte.gz", R_OK) != 0)
        skip();
    nnl_fashion f;
    assert_int_equal(nnl_fashion_load(NNL_FASHION_SYSTEM_DIR, 1, &f, &err), NNL_OK);
    assert_int_equal(f.x_train->shape[0], 60000);
    assert_int_equal(f.x_train->shape[1], 784);
    assert_int_equal(f.x_test->shape[0], 10000);
    int count[11] = {0};
    for (size_t i = 0; i < 60000; i++)
        count[(int)f.y_train->data[i]]++;
    for (int k = 1; k <= 10; k++)
        assert_int_equal(count[k], 6000); /* Fashion-MNIST is balanced */
    nnl_fashion_free(&f);
}

static void test_generators_are_deterministic(void **state)
{
    (void)state;
    nnl_rng r1, r2;
    nnl_tensor *x1, *y1, *x2, *y2;
    nnl_rng_seed(&r1, 7);
    nnl_rng_seed(&r2, 7);
    assert_int_equal(nnl_gen_spiral(&r1, 301, 3, &x1, &y1, &err), NNL_OK);
    assert_int_equal(nnl_gen_spiral(&r2, 301, 3, &x2, &y2, &err), NNL_OK);
    assert_memory_equal(x1->data, x2->data, x1->numel * sizeof(float));
    assert_int_equal(x1->shape[0], 301);
    int count[4] = {0};
    for (size_t i = 0; i < 301; i++)
        count[(int)y1->data[i]]++;
    assert_true(count[1] == 101 && count[2] == 100 && count[3] == 100);
    for (size_t i = 0; i < 602; i++)
        assert_true(fabsf(x1->data[i]) <= 1.0f);
    nnl_tensor_free(x1);
    nnl_tensor_free(y1);
    nnl_tensor_free(x2);
    nnl_tensor_free(y2);

    nnl_rng_seed(&r1, 7);
    nnl_rng_seed(&r2, 8);
    assert_int_equal(nnl_gen_moons(&r1, 100, 0.1f, &x1, &y1, &err), NNL_OK);
    assert_int_equal(nnl_gen_moons(&r2, 100, 0.1f, &x2, &y2, &err), NNL_OK);
    assert_memory_not_equal(x1->data, x2->data, x1->numel * sizeof(float));
    int ones = 0;
    for (size_t i = 0; i < 100; i++)
        ones += y1->data[i] == 1;
    assert_int_equal(ones, 50);
    nnl_tensor_free(x1);
    nnl_tensor_free(y1);
    nnl_tensor_free(x2);
    nnl_tensor_free(y2);

    /* Without noise the moons lie exactly on their circles. */
    nnl_rng_seed(&r1, 1);
    assert_int_equal(nnl_gen_moons(&r1, 51, 0.0f, &x1, &y1, &err), NNL_OK);
    for (size_t i = 0; i < 51; i++) {
        float a = x1->data[2 * i], b = x1->data[2 * i + 1];
        if (y1->data[i] == 1)
            assert_true(fabsf(a * a + b * b - 1) < 1e-5f && b >= 0);
        else
            assert_true(fabsf((a - 1) * (a - 1) + (b - 0.5f) * (b - 0.5f) - 1) < 1e-5f);
    }
    nnl_tensor_free(x1);
    nnl_tensor_free(y1);

    assert_int_equal(nnl_gen_sine(&r1, 64, 0.0f, &x1, &y1, &err), NNL_OK);
    for (size_t i = 0; i < 64; i++) {
        assert_true(fabsf(y1->data[i] - sinf(x1->data[i])) < 1e-6f);
        if (i)
            assert_true(x1->data[i] >= x1->data[i - 1]);
    }
    nnl_tensor_free(x1);
    nnl_tensor_free(y1);

    assert_int_equal(nnl_gen_xor(&x1, &y1, &err), NNL_OK);
    for (int i = 0; i < 4; i++)
        assert_true(y1->data[i] == (float)((x1->data[2 * i] != x1->data[2 * i + 1])));
    nnl_tensor_free(x1);
    nnl_tensor_free(y1);

    assert_int_equal(nnl_gen_spiral(&r1, 10, 0, &x1, &y1, &err), NNL_ERR_ARG);
    assert_int_equal(nnl_gen_moons(&r1, 0, 0.1f, &x1, &y1, &err), NNL_ERR_ARG);
    assert_int_equal(nnl_gen_sine(&r1, 5, -1.0f, &x1, &y1, &err), NNL_ERR_ARG);
}

static void test_one_hot(void **state)
{
    (void)state;
    nnl_tensor *y = nnl_tensor_new1(3, &err);
    y->data[0] = 2;
    y->data[1] = 1;
    y->data[2] = 3;
    nnl_tensor *h = nnl_one_hot(y, 3, &err);
    assert_non_null(h);
    const float want[9] = {0, 1, 0, 1, 0, 0, 0, 0, 1};
    assert_memory_equal(h->data, want, sizeof want);
    nnl_tensor_free(h);
    y->data[2] = 4;
    assert_null(nnl_one_hot(y, 3, &err));
    assert_non_null(strstr(err.msg, "label 3 is 4"));
    y->data[2] = 1.5f;
    assert_null(nnl_one_hot(y, 3, &err));
    nnl_tensor_free(y);
}

static void test_split_and_shuffle_keep_pairs(void **state)
{
    (void)state;
    nnl_tensor *x = nnl_tensor_new2(10, 2, &err), *y = nnl_tensor_new1(10, &err);
    for (int i = 0; i < 10; i++) {
        x->data[2 * i] = (float)i;
        x->data[2 * i + 1] = (float)(100 + i);
        y->data[i] = (float)i;
    }
    nnl_rng r;
    nnl_rng_seed(&r, 3);
    nnl_tensor *xa, *ya, *xb, *yb;
    assert_int_equal(nnl_split(&r, x, y, 0.7, &xa, &ya, &xb, &yb, &err), NNL_OK);
    assert_int_equal(xa->shape[0], 7);
    assert_int_equal(xb->shape[0], 3);
    int seen[10] = {0}, moved = 0;
    for (int i = 0; i < 7; i++) {
        assert_true(xa->data[2 * i] == ya->data[i] && xa->data[2 * i + 1] == 100 + ya->data[i]);
        seen[(int)ya->data[i]]++;
        moved += ya->data[i] != (float)i;
    }
    for (int i = 0; i < 3; i++) {
        assert_true(xb->data[2 * i] == yb->data[i]);
        seen[(int)yb->data[i]]++;
    }
    for (int i = 0; i < 10; i++)
        assert_int_equal(seen[i], 1);
    assert_true(moved > 0);
    nnl_tensor_free(xa);
    nnl_tensor_free(ya);
    nnl_tensor_free(xb);
    nnl_tensor_free(yb);

    assert_int_equal(nnl_shuffle(&r, x, y, &xa, &ya, &err), NNL_OK);
    for (int i = 0; i < 10; i++)
        assert_true(xa->data[2 * i] == ya->data[i]);
    nnl_tensor_free(xa);
    nnl_tensor_free(ya);

    assert_int_equal(nnl_split(&r, x, y, 1.5, &xa, &ya, &xb, &yb, &err), NNL_ERR_ARG);
    nnl_tensor *y3 = nnl_tensor_new1(3, &err);
    assert_int_equal(nnl_shuffle(&r, x, y3, &xa, &ya, &err), NNL_ERR_SHAPE);
    assert_non_null(strstr(err.msg, "different numbers of rows"));
    nnl_tensor_free(y3);
    nnl_tensor_free(x);
    nnl_tensor_free(y);
}

static void test_standardize(void **state)
{
    (void)state;
    nnl_tensor *x = nnl_tensor_new2(4, 2, &err);
    const float v[8] = {1, 5, 2, 5, 3, 5, 4, 5}; /* column 2 is constant */
    memcpy(x->data, v, sizeof v);
    nnl_tensor *z, *m, *s;
    assert_int_equal(nnl_standardize(x, NULL, NULL, &z, &m, &s, &err), NNL_OK);
    assert_true(m->data[0] == 2.5f && m->data[1] == 5.0f);
    assert_true(fabsf(s->data[0] - sqrtf(1.25f)) < 1e-6f && s->data[1] == 1.0f);
    assert_true(fabsf(z->data[0] + 1.5f / sqrtf(1.25f)) < 1e-6f && z->data[1] == 0);
    /* The same transform applied to other data. */
    nnl_tensor *z2, *m2, *s2;
    assert_int_equal(nnl_standardize(x, m, s, &z2, &m2, &s2, &err), NNL_OK);
    assert_memory_equal(z->data, z2->data, 8 * sizeof(float));
    nnl_tensor_free(z2);
    nnl_tensor_free(m2);
    nnl_tensor_free(s2);
    s->data[1] = 0;
    assert_int_equal(nnl_standardize(x, m, s, &z2, &m2, &s2, &err), NNL_ERR_ARG);
    nnl_tensor_free(z);
    nnl_tensor_free(m);
    nnl_tensor_free(s);
    nnl_tensor_free(x);
}

/* Images n x h x w x c: every pixel of every channel is a feature; mean
 * and std come back in a sample's shape; a 1-D x has no rows to average. */
static void test_standardize_images(void **state)
{
    (void)state;
    size_t shape[4] = {3, 2, 1, 2};
    nnl_tensor *x = nnl_tensor_new(4, shape, &err);
    for (size_t i = 0; i < x->numel; i++)
        x->data[i] = (float)(i / 4 * 2 + i % 4); /* feature f of sample r: 2r + f */
    nnl_tensor *z, *m, *s;
    assert_int_equal(nnl_standardize(x, NULL, NULL, &z, &m, &s, &err), NNL_OK);
    assert_int_equal(z->ndim, 4);
    assert_int_equal(z->shape[3], 2);
    assert_int_equal(m->ndim, 3);
    assert_int_equal(m->shape[0], 2);
    assert_int_equal(m->shape[1], 1);
    assert_int_equal(m->shape[2], 2);
    for (size_t f = 0; f < 4; f++) {
        assert_true(m->data[f] == 2.0f + (float)f); /* mean of 2r + f over r = 0..2 */
        assert_true(fabsf(s->data[f] - sqrtf(8.0f / 3.0f)) < 1e-6f);
        assert_true(fabsf(z->data[f] + 2.0f / sqrtf(8.0f / 3.0f)) < 1e-6f);
        assert_true(z->data[4 + f] == 0.0f);
    }
    nnl_tensor_free(z);
    nnl_tensor_free(m);
    nnl_tensor_free(s);
    nnl_tensor *v = nnl_tensor_new1(3, &err);
    assert_int_equal(nnl_standardize(v, NULL, NULL, &z, &m, &s, &err), NNL_ERR_SHAPE);
    assert_non_null(strstr(err.msg, "got [3]"));
    nnl_tensor_free(v);
    nnl_tensor_free(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_iris_is_150x4_three_species, check_no_leaks),
        cmocka_unit_test_teardown(test_digits_is_1797x64_ten_classes, check_no_leaks),
        cmocka_unit_test_teardown(test_fashion_from_a_folder, check_no_leaks),
        cmocka_unit_test_teardown(test_fashion_system_install, check_no_leaks),
        cmocka_unit_test_teardown(test_generators_are_deterministic, check_no_leaks),
        cmocka_unit_test_teardown(test_one_hot, check_no_leaks),
        cmocka_unit_test_teardown(test_split_and_shuffle_keep_pairs, check_no_leaks),
        cmocka_unit_test_teardown(test_standardize, check_no_leaks),
        cmocka_unit_test_teardown(test_standardize_images, check_no_leaks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
