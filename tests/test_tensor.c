/* Tests of the C tensor API (src/core/tensor.c): shapes, views sharing
 * storage, broadcasting, reductions, products, concatenation, ranges, and
 * out-of-memory handling through the failing allocator hook. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "core/alloc.h"
#include "core/rng.h"
#include "core/tensor.h"
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
    size_t shape[5] = {1, 1, 1, 1, 1};
    assert_null(nnl_tensor_new(0, shape, &err));
    assert_int_equal(err.code, NNL_ERR_ARG);
    assert_null(nnl_tensor_new(5, shape, &err));
    assert_int_equal(err.code, NNL_ERR_ARG);
    size_t huge[3] = {1000000, 1000000, 1000000};
    assert_null(nnl_tensor_new(3, huge, &err));
    assert_int_equal(err.code, NNL_ERR_ARG);
    assert_non_null(strstr(err.msg, "[1000000x1000000x1000000]"));
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

/* Runs make() with the k-th allocation failing for k = 0, 1, ... until it
 * succeeds; every failure must be NNL_ERR_NOMEM with nothing leaked. */
typedef nnl_tensor *(*make_fn)(nnl_error *err);

static void check_oom(make_fn make)
{
    for (long k = 0; k < 50; k++) {
        nnl_gemm_release_workspace();
        long live = nnl_alloc_live();
        nnl_error err;
        nnl_error_clear(&err);
        nnl_alloc_fail_after(k);
        nnl_tensor *t = make(&err);
        nnl_alloc_fail_reset();
        if (t) {
            nnl_tensor_free(t);
            nnl_gemm_release_workspace();
            assert_int_equal(nnl_alloc_live(), live);
            return;
        }
        assert_int_equal(err.code, NNL_ERR_NOMEM);
        nnl_gemm_release_workspace();
        assert_int_equal(nnl_alloc_live(), live);
    }
    fail_msg("allocation never succeeded");
}

static nnl_tensor *mk_new(nnl_error *err) { return nnl_tensor_new2(3, 4, err); }
static nnl_tensor *shared_a, *shared_b;
static nnl_tensor *mk_add(nnl_error *err) { return nnl_tensor_binop(NNL_ADD, shared_a, shared_b, err); }
static nnl_tensor *mk_matmul(nnl_error *err) { return nnl_tensor_matmul(shared_a, shared_b, err); }
static nnl_tensor *mk_view(nnl_error *err) { return nnl_tensor_rows(shared_a, 1, 2, err); }
static nnl_tensor *mk_clone(nnl_error *err) { return nnl_tensor_clone(shared_a, err); }
static nnl_tensor *mk_reduce(nnl_error *err) { return nnl_tensor_reduce(NNL_SUM, shared_a, 1, err); }
static nnl_tensor *mk_cat(nnl_error *err)
{
    const nnl_tensor *ts[2] = {shared_a, shared_a};
    return nnl_tensor_cat(ts, 2, 0, err);
}

static void test_out_of_memory_everywhere(void **state)
{
    (void)state;
    shared_a = nnl_tensor_new2(3, 4, NULL);
    shared_b = nnl_tensor_new2(4, 4, NULL);
    check_oom(mk_new);
    check_oom(mk_matmul);
    check_oom(mk_view);
    check_oom(mk_clone);
    check_oom(mk_reduce);
    check_oom(mk_cat);
    nnl_tensor_free(shared_b);
    shared_b = nnl_tensor_new1(4, NULL);
    check_oom(mk_add);
    nnl_tensor_free(shared_a);
    nnl_tensor_free(shared_b);
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
        cmocka_unit_test_setup_teardown(test_out_of_memory_everywhere, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
