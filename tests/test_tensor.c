/* Tests of the C tensor API (src/tensor/tensor.c): shapes, views sharing
 * storage, broadcasting, reductions, products, concatenation, ranges and
 * random filling. Out-of-memory handling is in test_tensor_oom.c. Every
 * test checks that it leaves no allocation behind. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <math.h>
#include <string.h>

#include "core/alloc.h"
#include "core/rng.h"
#include "tensor/tensor.h"
#include "simd/gemm.h"

static long baseline;

static int setup(void **state)
{
    (void)state;
    nnl_gemm_release_workspace();
    baseline = nnl_alloc_live();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    nnl_alloc_fail_reset();
    nnl_gemm_release_workspace();
    assert_int_equal(nnl_alloc_live(), baseline);
    return 0;
}

/* A 2-D tensor filled from values. */
static nnl_tensor *mat(size_t r, size_t c, const float *v)
{
    nnl_tensor *t = nnl_tensor_new2(r, c, NULL);
    assert_non_null(t);
    memcpy(t->data, v, r * c * sizeof(float));
    return t;
}

static void test_new_zero_filled_and_shape(void **state)
{
    (void)state;
    size_t shape[3] = {2, 3, 4};
    nnl_error err;
    nnl_tensor *t = nnl_tensor_new(3, shape, &err);
    assert_non_null(t);
    assert_int_equal(t->ndim, 3);
    assert_int_equal(t->numel, 24);
    for (size_t i = 0; i < 24; i++)
        assert_true(t->data[i] == 0.0f);
    assert_true(((uintptr_t)t->data % NNL_ALIGN) == 0);
    char buf[32];
    assert_string_equal(nnl_shape_str(t, buf, sizeof buf), "[2x3x4]");
    nnl_tensor_free(t);
}

static void test_new_rejects_bad_dims_and_huge(void **state)
{
    (void)state;
    nnl_error err;
    size_t shape[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
    assert_null(nnl_tensor_new(0, shape, &err));
    assert_int_equal(err.code, NNL_ERR_ARG);
    assert_null(nnl_tensor_new(9, shape, &err));
    assert_int_equal(err.code, NNL_ERR_ARG);
    size_t huge[3] = {1000000, 1000000, 1000000};
    assert_null(nnl_tensor_new(3, huge, &err));
    assert_int_equal(err.code, NNL_ERR_ARG);
    assert_non_null(strstr(err.msg, "tensor: size 1000000 x 1000000 x 1000000 is too large"));
    /* One float past the allocation limit. */
    assert_null(nnl_tensor_new1(NNL_ALLOC_MAX / sizeof(float) + 1, &err));
    assert_int_equal(err.code, NNL_ERR_ARG);
    size_t over[2] = {SIZE_MAX / 2, 3};
    assert_null(nnl_tensor_new(2, over, &err));
    assert_int_equal(err.code, NNL_ERR_ARG);
    size_t empty[2] = {0, SIZE_MAX};
    nnl_tensor *e = nnl_tensor_new(2, empty, &err);
    assert_non_null(e);
    assert_int_equal(e->numel, 0);
    nnl_tensor_free(e);
}

static void test_views_share_storage_and_outlive_parent(void **state)
{
    (void)state;
    float v[6] = {1, 2, 3, 4, 5, 6};
    nnl_tensor *t = mat(3, 2, v);
    nnl_tensor *row = nnl_tensor_select(t, 1, NULL);
    nnl_tensor *rows = nnl_tensor_rows(t, 1, 2, NULL);
    assert_non_null(row);
    assert_non_null(rows);
    assert_int_equal(row->ndim, 1);
    assert_int_equal(row->shape[0], 2);
    assert_true(row->data[0] == 3.0f);
    row->data[1] = 40.0f;
    assert_true(t->data[3] == 40.0f);
    assert_true(rows->data[1] == 40.0f);
    assert_int_equal(rows->shape[0], 2);
    nnl_tensor_free(t);
    /* The views still hold the storage. */
    assert_true(rows->data[3] == 6.0f);
    nnl_tensor_free(row);
    nnl_tensor_free(rows);
}

static void test_select_and_rows_bounds(void **state)
{
    (void)state;
    nnl_error err;
    nnl_tensor *t = nnl_tensor_new2(3, 2, NULL);
    assert_null(nnl_tensor_select(t, 3, &err));
    assert_int_equal(err.code, NNL_ERR_RANGE);
    assert_non_null(strstr(err.msg, "[3x2]"));
    assert_null(nnl_tensor_rows(t, 2, 2, &err));
    assert_int_equal(err.code, NNL_ERR_RANGE);
    assert_null(nnl_tensor_rows(t, SIZE_MAX, 2, &err));
    nnl_tensor *empty = nnl_tensor_rows(t, 3, 0, &err);
    assert_non_null(empty);
    assert_int_equal(empty->numel, 0);
    nnl_tensor_free(empty);
    nnl_tensor *v = nnl_tensor_new1(4, NULL);
    assert_null(nnl_tensor_select(v, 0, &err));
    assert_int_equal(err.code, NNL_ERR_ARG);
    nnl_tensor_free(v);
    nnl_tensor_free(t);
}

static void test_reshape(void **state)
{
    (void)state;
    nnl_error err;
    nnl_tensor *t = nnl_tensor_arange(12, NULL);
    long s1[3] = {2, -1, 3};
    nnl_tensor *r = nnl_tensor_reshape(t, 3, s1, &err);
    assert_non_null(r);
    assert_int_equal(r->shape[1], 2);
    assert_true(r->data == t->data);
    long bad[2] = {5, -1};
    assert_null(nnl_tensor_reshape(t, 2, bad, &err));
    assert_int_equal(err.code, NNL_ERR_SHAPE);
    long two[2] = {-1, -1};
    assert_null(nnl_tensor_reshape(t, 2, two, &err));
    assert_int_equal(err.code, NNL_ERR_ARG);
    long wrong[2] = {5, 5};
    assert_null(nnl_tensor_reshape(t, 2, wrong, &err));
    assert_non_null(strstr(err.msg, "[5x5]"));
    long neg[2] = {-3, 4};
    assert_null(nnl_tensor_reshape(t, 2, neg, &err));
    nnl_tensor_free(r);
    nnl_tensor_free(t);
}

static void test_offset(void **state)
{
    (void)state;
    size_t shape[3] = {2, 3, 4};
    nnl_tensor *t = nnl_tensor_new(3, shape, NULL);
    size_t idx[3] = {1, 2, 3}, off;
    assert_int_equal(nnl_tensor_offset(t, idx, &off, NULL), NNL_OK);
    assert_int_equal(off, 23);
    nnl_error err;
    size_t bad[3] = {1, 3, 0};
    assert_int_equal(nnl_tensor_offset(t, bad, &off, &err), NNL_ERR_RANGE);
    assert_non_null(strstr(err.msg, "dimension 2 of size 3"));
    nnl_tensor_free(t);
}

static void test_binop_same_shape_and_broadcast(void **state)
{
    (void)state;
    float av[6] = {1, 2, 3, 4, 5, 6};
    float bv[6] = {6, 5, 4, 3, 2, 1};
    nnl_tensor *a = mat(2, 3, av), *b = mat(2, 3, bv);
    nnl_tensor *s = nnl_tensor_binop(NNL_SUB, a, b, NULL);
    float want[6] = {-5, -3, -1, 1, 3, 5};
    for (int i = 0; i < 6; i++)
        assert_true(s->data[i] == want[i]);
    nnl_tensor *row = nnl_tensor_new1(3, NULL);
    row->data[0] = 10, row->data[1] = 20, row->data[2] = 30;
    nnl_tensor *r = nnl_tensor_binop(NNL_ADD, a, row, NULL);
    assert_true(r->data[0] == 11 && r->data[4] == 25 && r->data[5] == 36);
    nnl_tensor *l = nnl_tensor_binop(NNL_DIV, row, a, NULL); /* vector on the left */
    assert_int_equal(l->ndim, 2);
    assert_true(l->data[0] == 10 && l->data[5] == 5);
    nnl_tensor_free(s);
    nnl_tensor_free(r);
    nnl_tensor_free(l);
    nnl_tensor_free(row);
    nnl_tensor_free(a);
    nnl_tensor_free(b);
}

static void test_binop_mismatch_names_shapes(void **state)
{
    (void)state;
    nnl_error err;
    nnl_tensor *a = nnl_tensor_new2(2, 3, NULL), *b = nnl_tensor_new1(4, NULL);
    assert_null(nnl_tensor_binop(NNL_ADD, a, b, &err));
    assert_int_equal(err.code, NNL_ERR_SHAPE);
    assert_string_equal(err.msg, "add: shapes [2x3] and [4] do not broadcast");
    nnl_tensor_free(a);
    nnl_tensor_free(b);
}

static void test_scalar_ops_and_division_by_zero(void **state)
{
    (void)state;
    float v[3] = {1, -2, 0};
    nnl_tensor *t = nnl_tensor_new1(3, NULL);
    memcpy(t->data, v, sizeof v);
    nnl_tensor *a = nnl_tensor_binop_scalar(NNL_SUB, t, 1.0f, 1, NULL); /* 1 - t */
    assert_true(a->data[0] == 0 && a->data[1] == 3 && a->data[2] == 1);
    nnl_tensor *d = nnl_tensor_binop_scalar(NNL_DIV, t, 0.0f, 0, NULL);
    assert_true(isinf(d->data[0]) && d->data[0] > 0);
    assert_true(isinf(d->data[1]) && d->data[1] < 0);
    assert_true(isnan(d->data[2]));
    nnl_tensor *n = nnl_tensor_neg(t, NULL);
    assert_true(n->data[1] == 2.0f);
    nnl_tensor *m = nnl_tensor_binop_scalar(NNL_MUL, t, 3.0f, 1, NULL);
    assert_true(m->data[1] == -6.0f);
    nnl_tensor_free(a);
    nnl_tensor_free(d);
    nnl_tensor_free(n);
    nnl_tensor_free(m);
    nnl_tensor_free(t);
}

static void test_matmul(void **state)
{
    (void)state;
    float av[6] = {1, 2, 3, 4, 5, 6};   /* 2x3 */
    float bv[6] = {7, 8, 9, 10, 11, 12}; /* 3x2 */
    nnl_tensor *a = mat(2, 3, av), *b = mat(3, 2, bv);
    nnl_tensor *c = nnl_tensor_matmul(a, b, NULL);
    assert_int_equal(c->shape[0], 2);
    assert_int_equal(c->shape[1], 2);
    assert_true(c->data[0] == 58 && c->data[1] == 64 && c->data[2] == 139 && c->data[3] == 154);
    nnl_tensor *v = nnl_tensor_new1(3, NULL);
    v->data[0] = 1, v->data[1] = 0, v->data[2] = -1;
    nnl_tensor *av1 = nnl_tensor_matmul(a, v, NULL); /* 2x3 * 3 -> 2 */
    assert_int_equal(av1->ndim, 1);
    assert_true(av1->data[0] == -2 && av1->data[1] == -2);
    nnl_tensor *vb = nnl_tensor_matmul(v, b, NULL); /* 3 * 3x2 -> 2 */
    assert_true(vb->data[0] == -4 && vb->data[1] == -4);
    nnl_error err;
    assert_null(nnl_tensor_matmul(a, a, &err));
    assert_int_equal(err.code, NNL_ERR_SHAPE);
    assert_non_null(strstr(err.msg, "[2x3] and [2x3]"));
    nnl_tensor_free(c);
    nnl_tensor_free(av1);
    nnl_tensor_free(vb);
    nnl_tensor_free(v);
    nnl_tensor_free(a);
    nnl_tensor_free(b);
}

static void test_reductions_all(void **state)
{
    (void)state;
    float v[5] = {3, -1, 7, 7, 2};
    nnl_tensor *t = nnl_tensor_new1(5, NULL);
    memcpy(t->data, v, sizeof v);
    assert_true(nnl_tensor_sum_all(t) == 18.0);
    float mx, mn;
    size_t am;
    assert_int_equal(nnl_tensor_max_all(t, &mx, NULL), NNL_OK);
    assert_int_equal(nnl_tensor_min_all(t, &mn, NULL), NNL_OK);
    assert_int_equal(nnl_tensor_argmax_all(t, &am, NULL), NNL_OK);
    assert_true(mx == 7 && mn == -1);
    assert_int_equal(am, 2); /* first of the tie */
    t->data[4] = NAN;
    assert_int_equal(nnl_tensor_argmax_all(t, &am, NULL), NNL_OK);
    assert_int_equal(am, 4);
    nnl_tensor *e = nnl_tensor_new1(0, NULL);
    nnl_error err;
    assert_int_equal(nnl_tensor_max_all(e, &mx, &err), NNL_ERR_ARG);
    assert_true(nnl_tensor_sum_all(e) == 0.0);
    nnl_tensor_free(e);
    nnl_tensor_free(t);
}

static void test_reduce_dims(void **state)
{
    (void)state;
    size_t shape[3] = {2, 3, 2};
    nnl_tensor *t = nnl_tensor_new(3, shape, NULL);
    for (size_t i = 0; i < 12; i++)
        t->data[i] = (float)i;
    nnl_tensor *s0 = nnl_tensor_reduce(NNL_SUM, t, 0, NULL);
    assert_int_equal(s0->ndim, 2);
    assert_true(s0->data[0] == 6 && s0->data[5] == 16);
    nnl_tensor *m1 = nnl_tensor_reduce(NNL_MEAN, t, 1, NULL);
    assert_int_equal(m1->shape[0], 2);
    assert_int_equal(m1->shape[1], 2);
    assert_true(m1->data[0] == 2 && m1->data[3] == 9);
    nnl_tensor *a2 = nnl_tensor_reduce(NNL_ARGMAX, t, 2, NULL);
    for (size_t i = 0; i < 6; i++)
        assert_true(a2->data[i] == 1.0f);
    nnl_tensor *mn = nnl_tensor_reduce(NNL_MIN, t, 2, NULL);
    assert_true(mn->data[5] == 10);
    nnl_error err;
    assert_null(nnl_tensor_reduce(NNL_SUM, t, 3, &err));
    assert_int_equal(err.code, NNL_ERR_RANGE);
    nnl_tensor *v = nnl_tensor_arange(4, NULL);
    nnl_tensor *vs = nnl_tensor_reduce(NNL_MAX, v, 0, NULL);
    assert_int_equal(vs->ndim, 1);
    assert_int_equal(vs->shape[0], 1);
    assert_true(vs->data[0] == 3);
    nnl_tensor_free(vs);
    nnl_tensor_free(v);
    nnl_tensor_free(s0);
    nnl_tensor_free(m1);
    nnl_tensor_free(a2);
    nnl_tensor_free(mn);
    nnl_tensor_free(t);
}

static void test_cat(void **state)
{
    (void)state;
    float av[4] = {1, 2, 3, 4}, bv[2] = {5, 6};
    nnl_tensor *a = mat(2, 2, av), *b = mat(1, 2, bv), *c = mat(2, 1, bv);
    const nnl_tensor *ab[2] = {a, b};
    nnl_tensor *r = nnl_tensor_cat(ab, 2, 0, NULL);
    assert_int_equal(r->shape[0], 3);
    assert_true(r->data[4] == 5 && r->data[5] == 6);
    const nnl_tensor *ac[2] = {a, c};
    nnl_tensor *k = nnl_tensor_cat(ac, 2, 1, NULL);
    assert_int_equal(k->shape[1], 3);
    float want[6] = {1, 2, 5, 3, 4, 6};
    for (int i = 0; i < 6; i++)
        assert_true(k->data[i] == want[i]);
    nnl_error err;
    assert_null(nnl_tensor_cat(ab, 2, 1, &err));
    assert_int_equal(err.code, NNL_ERR_SHAPE);
    assert_null(nnl_tensor_cat(ab, 0, 0, &err));
    nnl_tensor_free(r);
    nnl_tensor_free(k);
    nnl_tensor_free(a);
    nnl_tensor_free(b);
    nnl_tensor_free(c);
}

static void test_ranges(void **state)
{
    (void)state;
    nnl_tensor *l = nnl_tensor_linspace(0, 1, 5, NULL);
    assert_true(l->data[1] == 0.25f && l->data[4] == 1.0f);
    nnl_tensor *e = nnl_tensor_eye(3, NULL);
    assert_true(e->data[0] == 1 && e->data[1] == 0 && e->data[4] == 1 && e->data[8] == 1);
    assert_true(nnl_tensor_sum_all(e) == 3.0);
    nnl_error err;
    assert_null(nnl_tensor_linspace(0, 1, 0, &err));
    nnl_tensor_free(l);
    nnl_tensor_free(e);
}

static void test_rand_reproducible(void **state)
{
    (void)state;
    nnl_tensor *a = nnl_tensor_new1(100, NULL), *b = nnl_tensor_new1(100, NULL);
    nnl_rng_global_seed(7);
    nnl_tensor_randn(a);
    nnl_rng_global_seed(7);
    nnl_tensor_randn(b);
    assert_memory_equal(a->data, b->data, 100 * sizeof(float));
    nnl_tensor_rand(a);
    for (int i = 0; i < 100; i++)
        assert_true(a->data[i] >= 0.0f && a->data[i] < 1.0f);
    double mean = nnl_tensor_sum_all(b) / 100.0;
    assert_true(fabs(mean) < 0.4);
    nnl_tensor_free(a);
    nnl_tensor_free(b);
}


/* A 1-D tensor filled from values. */
static nnl_tensor *vec(size_t n, const float *v)
{
    nnl_tensor *t = nnl_tensor_new1(n, NULL);
    assert_non_null(t);
    if (n)
        memcpy(t->data, v, n * sizeof(float));
    return t;
}

static void test_shape_str_truncates(void **state)
{
    (void)state;
    size_t shape[3] = {2, 3, 4};
    char buf[16];
    assert_string_equal(nnl_shape_str_raw(3, shape, buf, 4), "[2x");
    assert_string_equal(nnl_shape_str_raw(3, shape, buf, 1), "");
    assert_string_equal(nnl_shape_str_raw(1, shape, buf, sizeof buf), "[2]");
    size_t big[4] = {SIZE_MAX, SIZE_MAX, SIZE_MAX, SIZE_MAX};
    char small[20];
    nnl_shape_str_raw(4, big, small, sizeof small);
    assert_int_equal(strlen(small), sizeof small - 1);
    buf[0] = 'z';
    nnl_shape_str_raw(3, shape, buf, 0); /* writes nothing */
    assert_true(buf[0] == 'z');
}

static void test_views_of_views_and_refcount(void **state)
{
    (void)state;
    size_t shape[3] = {3, 2, 2};
    nnl_tensor *t = nnl_tensor_new(3, shape, NULL);
    for (size_t i = 0; i < 12; i++)
        t->data[i] = (float)i;
    nnl_tensor *rows = nnl_tensor_rows(t, 1, 2, NULL);   /* [2x2x2] from 4 */
    nnl_tensor *sel = nnl_tensor_select(rows, 1, NULL);  /* [2x2] from 8 */
    nnl_tensor *flat = nnl_tensor_reshape(sel, 1, (const long[]){-1}, NULL);
    assert_non_null(flat);
    assert_int_equal(t->storage->refcount, 4);
    nnl_tensor_free(t);
    nnl_tensor_free(rows);
    nnl_tensor_free(sel);
    assert_int_equal(flat->storage->refcount, 1);
    assert_int_equal(flat->numel, 4);
    for (size_t i = 0; i < 4; i++)
        assert_true(flat->data[i] == (float)(8 + i));
    nnl_tensor_free(flat);
}

static void test_reshape_more(void **state)
{
    (void)state;
    nnl_error err;
    nnl_tensor *t = nnl_tensor_arange(24, NULL);
    nnl_tensor *a = nnl_tensor_reshape(t, 4, (const long[]){2, 3, 2, -1}, &err);
    assert_non_null(a);
    assert_int_equal(a->shape[3], 2);
    nnl_tensor *b = nnl_tensor_reshape(a, 2, (const long[]){-1, 8}, &err);
    assert_non_null(b);
    assert_int_equal(b->shape[0], 3);
    assert_true(b->data[9] == 9.0f);
    assert_null(nnl_tensor_reshape(t, 0, (const long[]){24}, &err));
    assert_int_equal(err.code, NNL_ERR_ARG);
    assert_null(nnl_tensor_reshape(t, 9, (const long[]){1, 1, 1, 1, 1, 1, 1, 1, 24}, &err));
    assert_int_equal(err.code, NNL_ERR_ARG);
    assert_null(nnl_tensor_reshape(t, 2, (const long[]){0, -1}, &err));
    assert_int_equal(err.code, NNL_ERR_SHAPE);
    assert_null(nnl_tensor_reshape(t, 2, (const long[]){LONG_MAX, LONG_MAX}, &err));
    nnl_tensor *e = nnl_tensor_new2(0, 5, NULL);
    nnl_tensor *e2 = nnl_tensor_reshape(e, 3, (const long[]){5, 0, 7}, &err);
    assert_non_null(e2);
    assert_int_equal(e2->numel, 0);
    nnl_tensor_free(e2);
    nnl_tensor_free(e);
    nnl_tensor_free(a);
    nnl_tensor_free(b);
    nnl_tensor_free(t);
}

static void test_offset_1d_and_4d(void **state)
{
    (void)state;
    size_t shape[4] = {2, 3, 4, 5};
    nnl_tensor *t = nnl_tensor_new(4, shape, NULL);
    size_t idx[4] = {1, 2, 3, 4}, off;
    assert_int_equal(nnl_tensor_offset(t, idx, &off, NULL), NNL_OK);
    assert_int_equal(off, t->numel - 1);
    size_t idx2[4] = {1, 0, 0, 0};
    assert_int_equal(nnl_tensor_offset(t, idx2, &off, NULL), NNL_OK);
    assert_int_equal(off, 60);
    nnl_tensor *v = nnl_tensor_new1(3, NULL);
    size_t i3 = 3;
    nnl_error err;
    assert_int_equal(nnl_tensor_offset(v, &i3, &off, &err), NNL_ERR_RANGE);
    assert_non_null(strstr(err.msg, "dimension 1 of size 3"));
    nnl_tensor_free(v);
    nnl_tensor_free(t);
}

static void test_fill_and_copy(void **state)
{
    (void)state;
    nnl_error err;
    nnl_tensor *a = nnl_tensor_new2(2, 3, NULL);
    nnl_tensor_fill(a, 2.5f);
    assert_true(nnl_tensor_sum_all(a) == 15.0);
    nnl_tensor *src = nnl_tensor_arange(6, NULL);
    assert_int_equal(nnl_tensor_copy(a, src, &err), NNL_OK); /* same numel, other shape */
    assert_true(a->data[5] == 5.0f);
    nnl_tensor *row = nnl_tensor_select(a, 1, NULL);
    nnl_tensor *three = nnl_tensor_new1(3, NULL);
    nnl_tensor_fill(three, -1.0f);
    assert_int_equal(nnl_tensor_copy(row, three, &err), NNL_OK); /* into a view */
    assert_true(a->data[2] == 2.0f && a->data[3] == -1.0f && a->data[5] == -1.0f);
    assert_int_equal(nnl_tensor_copy(a, three, &err), NNL_ERR_SHAPE);
    assert_non_null(strstr(err.msg, "[3] into [2x3]"));
    nnl_tensor_free(row);
    nnl_tensor_free(three);
    nnl_tensor_free(src);
    nnl_tensor_free(a);
}

static void test_broadcast_both_sides_and_3d(void **state)
{
    (void)state;
    float mv[6] = {1, 2, 3, 4, 5, 6};
    float rv[3] = {1, 2, 4};
    nnl_tensor *m = mat(2, 3, mv), *r = mat(1, 3, rv), *v = vec(3, rv);
    nnl_tensor *right = nnl_tensor_binop(NNL_SUB, m, r, NULL); /* [2x3] - [1x3] */
    nnl_tensor *left = nnl_tensor_binop(NNL_SUB, r, m, NULL);  /* [1x3] - [2x3] */
    assert_int_equal(right->shape[0], 2);
    assert_int_equal(left->shape[0], 2);
    for (size_t i = 0; i < 6; i++) {
        assert_true(right->data[i] == mv[i] - rv[i % 3]);
        assert_true(left->data[i] == rv[i % 3] - mv[i]);
    }
    nnl_tensor *rv2 = nnl_tensor_binop(NNL_MUL, v, r, NULL); /* [3] * [1x3] */
    assert_int_equal(rv2->ndim, 2);
    assert_true(rv2->data[2] == 16.0f);
    size_t s3[3] = {2, 2, 3};
    nnl_tensor *c = nnl_tensor_new(3, s3, NULL);
    for (size_t i = 0; i < 12; i++)
        c->data[i] = (float)i;
    nnl_tensor *cm = nnl_tensor_binop(NNL_MUL, c, v, NULL);
    assert_int_equal(cm->ndim, 3);
    for (size_t i = 0; i < 12; i++)
        assert_true(cm->data[i] == (float)i * rv[i % 3]);
    nnl_error err;
    nnl_tensor *r2 = nnl_tensor_new2(1, 2, NULL), *col = nnl_tensor_new2(2, 1, NULL);
    assert_null(nnl_tensor_binop(NNL_SUB, m, r2, &err));
    assert_string_equal(err.msg, "sub: shapes [2x3] and [1x2] do not broadcast");
    col->data[0] = 10, col->data[1] = -1; /* a column broadcasts over the columns */
    nnl_tensor *cm2 = nnl_tensor_binop(NNL_MUL, col, m, NULL);
    assert_int_equal(cm2->ndim, 2);
    for (size_t i = 0; i < 6; i++)
        assert_true(cm2->data[i] == mv[i] * (i < 3 ? 10.0f : -1.0f));
    nnl_tensor_free(cm2);
    nnl_tensor *v4 = nnl_tensor_new1(4, NULL);
    assert_null(nnl_tensor_binop(NNL_DIV, v, v4, &err));
    assert_int_equal(err.code, NNL_ERR_SHAPE);
    assert_string_equal(err.msg, "div: shapes [3] and [4] do not broadcast");
    nnl_tensor *all[] = {m, r, v, right, left, rv2, c, cm, r2, col, v4};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        nnl_tensor_free(all[i]);
}

static void test_tensor_division_by_zero_is_ieee(void **state)
{
    (void)state;
    float av[4] = {1, -1, 0, 6}, bv[4] = {0, 0, 0, -0.0f};
    nnl_tensor *a = vec(4, av), *b = vec(4, bv);
    nnl_tensor *q = nnl_tensor_binop(NNL_DIV, a, b, NULL);
    assert_true(isinf(q->data[0]) && q->data[0] > 0);
    assert_true(isinf(q->data[1]) && q->data[1] < 0);
    assert_true(isnan(q->data[2]));
    assert_true(isinf(q->data[3]) && q->data[3] < 0);
    nnl_tensor *s = nnl_tensor_binop_scalar(NNL_DIV, b, 1.0f, 1, NULL); /* 1 / b */
    assert_true(isinf(s->data[0]) && s->data[0] > 0);
    assert_true(isinf(s->data[3]) && s->data[3] < 0);
    nnl_tensor_free(q);
    nnl_tensor_free(s);
    nnl_tensor_free(a);
    nnl_tensor_free(b);
}

static void test_scalar_ops_both_sides(void **state)
{
    (void)state;
    float xv[4] = {1, 2, -4, 8};
    nnl_tensor *x = vec(4, xv);
    struct { nnl_binop op; int left; } cases[8] = {
        {NNL_ADD, 0}, {NNL_ADD, 1}, {NNL_SUB, 0}, {NNL_SUB, 1},
        {NNL_MUL, 0}, {NNL_MUL, 1}, {NNL_DIV, 0}, {NNL_DIV, 1},
    };
    const float s = 3.0f;
    for (int c = 0; c < 8; c++) {
        nnl_tensor *y = nnl_tensor_binop_scalar(cases[c].op, x, s, cases[c].left, NULL);
        assert_non_null(y);
        for (size_t i = 0; i < 4; i++) {
            float a = cases[c].left ? s : xv[i], b = cases[c].left ? xv[i] : s, want = 0;
            switch (cases[c].op) {
            case NNL_ADD: want = a + b; break;
            case NNL_SUB: want = a - b; break;
            case NNL_MUL: want = a * b; break;
            case NNL_DIV: want = a / b; break;
            default: break;
            }
            assert_true(y->data[i] == want);
        }
        nnl_tensor_free(y);
    }
    assert_string_equal(nnl_binop_name(NNL_DIV), "div");
    assert_string_equal(nnl_binop_name(NNL_MUL), "mul");
    nnl_tensor *e = nnl_tensor_new1(0, NULL);
    nnl_tensor *ne = nnl_tensor_neg(e, NULL);
    assert_non_null(ne);
    assert_int_equal(ne->numel, 0);
    nnl_tensor_free(ne);
    nnl_tensor_free(e);
    nnl_tensor_free(x);
}

static void test_matmul_more(void **state)
{
    (void)state;
    nnl_error err;
    float uv[3] = {1, 2, 3}, wv[3] = {4, -5, 6};
    nnl_tensor *u = vec(3, uv), *w = vec(3, wv);
    nnl_tensor *dot = nnl_tensor_matmul(u, w, NULL);
    assert_int_equal(dot->ndim, 1);
    assert_int_equal(dot->shape[0], 1);
    assert_true(dot->data[0] == 12.0f);
    /* k = 0: an empty sum, all zeros. */
    nnl_tensor *a0 = nnl_tensor_new2(2, 0, NULL), *b0 = nnl_tensor_new2(0, 3, NULL);
    nnl_tensor *z = nnl_tensor_matmul(a0, b0, NULL);
    assert_non_null(z);
    assert_int_equal(z->shape[0], 2);
    assert_int_equal(z->shape[1], 3);
    for (size_t i = 0; i < 6; i++)
        assert_true(z->data[i] == 0.0f);
    /* m = 0: an empty result of the right shape. */
    nnl_tensor *b32 = nnl_tensor_new2(3, 2, NULL);
    nnl_tensor *e = nnl_tensor_matmul(b0, b32, NULL);
    assert_non_null(e);
    assert_int_equal(e->shape[0], 0);
    assert_int_equal(e->shape[1], 2);
    nnl_tensor_free(e);
    nnl_tensor_free(b32);
    /* A product that is not tiny, against a double reference. */
    size_t m = 17, k = 23, n = 11;
    nnl_tensor *a = nnl_tensor_new2(m, k, NULL), *b = nnl_tensor_new2(k, n, NULL);
    nnl_rng_global_seed(3);
    nnl_tensor_randn(a);
    nnl_tensor_randn(b);
    nnl_tensor *c = nnl_tensor_matmul(a, b, NULL);
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < n; j++) {
            double ref = 0;
            for (size_t p = 0; p < k; p++)
                ref += (double)a->data[i * k + p] * b->data[p * n + j];
            assert_true(fabs(c->data[i * n + j] - ref) < 1e-4 * (1 + fabs(ref)));
        }
    size_t s3[3] = {2, 2, 2};
    nnl_tensor *t3 = nnl_tensor_new(3, s3, NULL);
    assert_null(nnl_tensor_matmul(t3, u, &err));
    assert_int_equal(err.code, NNL_ERR_SHAPE);
    nnl_tensor *v4 = nnl_tensor_new1(4, NULL);
    assert_null(nnl_tensor_matmul(u, v4, &err));
    assert_int_equal(err.code, NNL_ERR_SHAPE);
    assert_non_null(strstr(err.msg, "matmul: shapes [3] and [4]"));
    nnl_tensor *all[] = {u, w, dot, a0, b0, z, a, b, c, t3, v4};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        nnl_tensor_free(all[i]);
}

static void test_reduce_2d(void **state)
{
    (void)state;
    float v[6] = {1, 5, 3, 5, 2, -6};
    nnl_tensor *t = mat(2, 3, v);
    nnl_tensor *s0 = nnl_tensor_reduce(NNL_SUM, t, 0, NULL);
    nnl_tensor *s1 = nnl_tensor_reduce(NNL_SUM, t, 1, NULL);
    nnl_tensor *m1 = nnl_tensor_reduce(NNL_MEAN, t, 1, NULL);
    nnl_tensor *x0 = nnl_tensor_reduce(NNL_MAX, t, 0, NULL);
    nnl_tensor *n1 = nnl_tensor_reduce(NNL_MIN, t, 1, NULL);
    nnl_tensor *a0 = nnl_tensor_reduce(NNL_ARGMAX, t, 0, NULL);
    nnl_tensor *a1 = nnl_tensor_reduce(NNL_ARGMAX, t, 1, NULL);
    assert_int_equal(s0->ndim, 1);
    assert_int_equal(s0->shape[0], 3);
    assert_int_equal(s1->shape[0], 2);
    assert_true(s0->data[0] == 6 && s0->data[1] == 7 && s0->data[2] == -3);
    assert_true(s1->data[0] == 9 && s1->data[1] == 1);
    assert_true(m1->data[0] == 3 && fabsf(m1->data[1] - 1.0f / 3.0f) < 1e-7f);
    assert_true(x0->data[0] == 5 && x0->data[1] == 5 && x0->data[2] == 3);
    assert_true(n1->data[0] == 1 && n1->data[1] == -6);
    assert_true(a0->data[0] == 1 && a0->data[1] == 0 && a0->data[2] == 0); /* tie: first */
    assert_true(a1->data[0] == 1 && a1->data[1] == 0);
    nnl_tensor *all[] = {s0, s1, m1, x0, n1, a0, a1};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        nnl_tensor_free(all[i]);
    /* NaN: the maximum for argmax, and it propagates through max and min. */
    t->data[2] = NAN;
    nnl_tensor *an = nnl_tensor_reduce(NNL_ARGMAX, t, 1, NULL);
    nnl_tensor *xn = nnl_tensor_reduce(NNL_MAX, t, 1, NULL);
    nnl_tensor *mn = nnl_tensor_reduce(NNL_MIN, t, 0, NULL);
    assert_true(an->data[0] == 2 && an->data[1] == 0);
    assert_true(isnan(xn->data[0]) && xn->data[1] == 5);
    assert_true(mn->data[0] == 1 && isnan(mn->data[2]));
    float f;
    assert_int_equal(nnl_tensor_min_all(t, &f, NULL), NNL_OK);
    assert_true(isnan(f));
    nnl_tensor_free(an);
    nnl_tensor_free(xn);
    nnl_tensor_free(mn);
    nnl_error err;
    assert_null(nnl_tensor_reduce(NNL_MEAN, t, -1, &err));
    assert_int_equal(err.code, NNL_ERR_RANGE);
    assert_non_null(strstr(err.msg, "mean"));
    nnl_tensor_free(t);
}

static void test_reduce_empty_dimension(void **state)
{
    (void)state;
    nnl_error err;
    nnl_tensor *t = nnl_tensor_new2(0, 3, NULL);
    nnl_tensor *s = nnl_tensor_reduce(NNL_SUM, t, 0, NULL);
    nnl_tensor *m = nnl_tensor_reduce(NNL_MEAN, t, 0, NULL);
    assert_int_equal(s->shape[0], 3);
    assert_true(s->data[0] == 0.0f && s->data[2] == 0.0f);
    assert_true(isnan(m->data[1]));
    assert_null(nnl_tensor_reduce(NNL_MAX, t, 0, &err));
    assert_int_equal(err.code, NNL_ERR_ARG);
    assert_null(nnl_tensor_reduce(NNL_ARGMAX, t, 0, &err));
    nnl_tensor *r = nnl_tensor_reduce(NNL_MAX, t, 1, NULL); /* 0 rows of 3: fine */
    assert_non_null(r);
    assert_int_equal(r->numel, 0);
    size_t am;
    assert_int_equal(nnl_tensor_argmax_all(t, &am, &err), NNL_ERR_ARG);
    float f;
    assert_int_equal(nnl_tensor_min_all(t, &f, &err), NNL_ERR_ARG);
    nnl_tensor_free(r);
    nnl_tensor_free(s);
    nnl_tensor_free(m);
    nnl_tensor_free(t);
}

/* Float accumulation would lose every +1 after 2^24; double keeps them. */
static void test_sums_accumulate_in_double(void **state)
{
    (void)state;
    float v[5] = {16777216.0f, 1, 1, 1, 1};
    nnl_tensor *t = vec(5, v);
    assert_true(nnl_tensor_sum_all(t) == 16777220.0);
    nnl_tensor *s = nnl_tensor_reduce(NNL_SUM, t, 0, NULL);
    assert_true(s->data[0] == 16777220.0f);
    nnl_tensor *m = nnl_tensor_reduce(NNL_MEAN, t, 0, NULL);
    assert_true(m->data[0] == (float)(16777220.0 / 5));
    nnl_tensor_free(s);
    nnl_tensor_free(m);
    nnl_tensor_free(t);
}

static void test_cat_more(void **state)
{
    (void)state;
    nnl_error err;
    nnl_tensor *a = nnl_tensor_arange(3, NULL), *b = nnl_tensor_arange(2, NULL);
    nnl_tensor *e = nnl_tensor_new1(0, NULL);
    const nnl_tensor *abe[3] = {a, e, b};
    nnl_tensor *r = nnl_tensor_cat(abe, 3, 0, NULL);
    float want[5] = {0, 1, 2, 0, 1};
    assert_int_equal(r->numel, 5);
    assert_memory_equal(r->data, want, sizeof want);
    size_t s1[3] = {2, 1, 2}, s2[3] = {2, 2, 2};
    nnl_tensor *x = nnl_tensor_new(3, s1, NULL), *y = nnl_tensor_new(3, s2, NULL);
    for (size_t i = 0; i < 4; i++)
        x->data[i] = (float)(100 + i);
    for (size_t i = 0; i < 8; i++)
        y->data[i] = (float)i;
    const nnl_tensor *xy[2] = {x, y};
    nnl_tensor *c = nnl_tensor_cat(xy, 2, 1, NULL);
    assert_int_equal(c->shape[1], 3);
    float wc[12] = {100, 101, 0, 1, 2, 3, 102, 103, 4, 5, 6, 7};
    assert_memory_equal(c->data, wc, sizeof wc);
    const nnl_tensor *ax[2] = {a, x};
    assert_null(nnl_tensor_cat(ax, 2, 0, &err));
    assert_int_equal(err.code, NNL_ERR_SHAPE);
    assert_non_null(strstr(err.msg, "tensor 2 has shape [2x1x2]"));
    assert_null(nnl_tensor_cat(xy, 2, 3, &err));
    assert_int_equal(err.code, NNL_ERR_RANGE);
    assert_null(nnl_tensor_cat(xy, 2, 0, &err));
    assert_int_equal(err.code, NNL_ERR_SHAPE);
    nnl_tensor *all[] = {a, b, e, r, x, y, c};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        nnl_tensor_free(all[i]);
}

static void test_ranges_more(void **state)
{
    (void)state;
    nnl_tensor *a = nnl_tensor_arange(6, NULL);
    for (size_t i = 0; i < 6; i++)
        assert_true(a->data[i] == (float)i);
    nnl_tensor *a0 = nnl_tensor_arange(0, NULL);
    assert_int_equal(a0->numel, 0);
    nnl_tensor *one = nnl_tensor_linspace(2.5, 9, 1, NULL);
    assert_int_equal(one->numel, 1);
    assert_true(one->data[0] == 2.5f);
    nnl_tensor *down = nnl_tensor_linspace(1, -1, 5, NULL);
    float wd[5] = {1, 0.5f, 0, -0.5f, -1};
    assert_memory_equal(down->data, wd, sizeof wd);
    nnl_tensor *third = nnl_tensor_linspace(0, 1, 4, NULL);
    assert_true(third->data[3] == 1.0f && fabsf(third->data[1] - 1.0f / 3) < 1e-7f);
    nnl_tensor *e0 = nnl_tensor_eye(0, NULL);
    assert_non_null(e0);
    assert_int_equal(e0->numel, 0);
    nnl_tensor *e = nnl_tensor_eye(5, NULL);
    for (size_t i = 0; i < 5; i++)
        for (size_t j = 0; j < 5; j++)
            assert_true(e->data[i * 5 + j] == (i == j ? 1.0f : 0.0f));
    nnl_error err;
    assert_null(nnl_tensor_eye((size_t)1 << 40, &err));
    assert_int_equal(err.code, NNL_ERR_ARG);
    nnl_tensor *all[] = {a, a0, one, down, third, e0, e};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        nnl_tensor_free(all[i]);
}

static void test_rand_seeds_and_statistics(void **state)
{
    (void)state;
    size_t n = 20000;
    nnl_tensor *a = nnl_tensor_new1(n, NULL), *b = nnl_tensor_new1(n, NULL);
    nnl_rng_global_seed(42);
    nnl_tensor_rand(a);
    nnl_rng_global_seed(42);
    nnl_tensor_rand(b);
    assert_memory_equal(a->data, b->data, n * sizeof(float));
    nnl_rng_global_seed(43);
    nnl_tensor_rand(b);
    assert_memory_not_equal(a->data, b->data, n * sizeof(float));
    double mean = nnl_tensor_sum_all(a) / (double)n;
    assert_true(fabs(mean - 0.5) < 0.02);
    nnl_tensor_randn(a);
    double s = 0, s2 = 0;
    for (size_t i = 0; i < n; i++)
        s += a->data[i], s2 += (double)a->data[i] * a->data[i];
    mean = s / (double)n;
    double var = s2 / (double)n - mean * mean;
    assert_true(fabs(mean) < 0.05);
    assert_true(fabs(var - 1.0) < 0.05);
    nnl_tensor_free(a);
    nnl_tensor_free(b);
}


/* The reference meaning of nnl_tensor_reduce for one output element: the
 * len values at x[0], x[stride], ...: sums in double, the first extreme
 * wins, the first NaN wins. */
static float reduce_ref(nnl_reduce op, const float *x, size_t len, size_t stride)
{
    if (op == NNL_SUM || op == NNL_MEAN) {
        double s = 0;
        for (size_t j = 0; j < len; j++)
            s += x[j * stride];
        return (float)(op == NNL_SUM ? s : s / (double)len);
    }
    size_t best = 0;
    for (size_t j = 0; j < len; j++) {
        float v = x[j * stride], b = x[best * stride];
        if (isnan(b))
            break;
        if (isnan(v) || (op == NNL_MIN ? v < b : v > b))
            best = j;
    }
    return op == NNL_ARGMAX ? (float)best : x[best * stride];
}

/* Every op along every dimension of shapes whose reduced blocks are wider
 * than one column block, with ties (values from a small set) and NaNs. */
static void test_reduce_matches_reference(void **state)
{
    (void)state;
    size_t shapes[5][3] = {{3, 300, 2}, {5, 600, 1}, {600, 5, 1}, {2, 3, 0}, {1, 1, 1}};
    int ndims[5] = {3, 2, 2, 3, 3};
    nnl_rng_global_seed(11);
    for (int c = 0; c < 5; c++) {
        nnl_tensor *t = nnl_tensor_new(ndims[c], shapes[c], NULL);
        assert_non_null(t);
        nnl_tensor_rand(t);
        for (size_t i = 0; i < t->numel; i++) {
            t->data[i] = floorf(t->data[i] * 8.0f) - 4.0f; /* many ties */
            if (i % 97 == 13)
                t->data[i] = NAN;
        }
        for (int dim = 0; dim < t->ndim; dim++) {
            size_t outer = 1, inner = 1, len = t->shape[dim];
            for (int i = 0; i < dim; i++)
                outer *= t->shape[i];
            for (int i = dim + 1; i < t->ndim; i++)
                inner *= t->shape[i];
            for (int op = NNL_SUM; op <= NNL_ARGMAX; op++) {
                nnl_error err;
                nnl_tensor *y = nnl_tensor_reduce((nnl_reduce)op, t, dim, &err);
                if (len == 0 && op != NNL_SUM && op != NNL_MEAN) {
                    assert_null(y); /* no extreme of nothing */
                    assert_int_equal(err.code, NNL_ERR_ARG);
                    continue;
                }
                assert_non_null(y);
                assert_int_equal(y->numel, outer * inner);
                for (size_t o = 0; o < outer; o++)
                    for (size_t i = 0; i < inner; i++) {
                        float want = reduce_ref((nnl_reduce)op, t->data + o * len * inner + i,
                                                len, inner);
                        float got = y->data[o * inner + i];
                        if (isnan(want))
                            assert_true(isnan(got));
                        else
                            assert_true(got == want);
                    }
                nnl_tensor_free(y);
            }
        }
        nnl_tensor_free(t);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_new_zero_filled_and_shape, setup, teardown),
        cmocka_unit_test_setup_teardown(test_new_rejects_bad_dims_and_huge, setup, teardown),
        cmocka_unit_test_setup_teardown(test_views_share_storage_and_outlive_parent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_select_and_rows_bounds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reshape, setup, teardown),
        cmocka_unit_test_setup_teardown(test_offset, setup, teardown),
        cmocka_unit_test_setup_teardown(test_binop_same_shape_and_broadcast, setup, teardown),
        cmocka_unit_test_setup_teardown(test_binop_mismatch_names_shapes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scalar_ops_and_division_by_zero, setup, teardown),
        cmocka_unit_test_setup_teardown(test_matmul, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reductions_all, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reduce_dims, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cat, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ranges, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rand_reproducible, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shape_str_truncates, setup, teardown),
        cmocka_unit_test_setup_teardown(test_views_of_views_and_refcount, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reshape_more, setup, teardown),
        cmocka_unit_test_setup_teardown(test_offset_1d_and_4d, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fill_and_copy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_broadcast_both_sides_and_3d, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tensor_division_by_zero_is_ieee, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scalar_ops_both_sides, setup, teardown),
        cmocka_unit_test_setup_teardown(test_matmul_more, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reduce_2d, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reduce_empty_dimension, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sums_accumulate_in_double, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cat_more, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ranges_more, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rand_seeds_and_statistics, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reduce_matches_reference, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
