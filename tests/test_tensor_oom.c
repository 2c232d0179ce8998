/* Out-of-memory handling of every allocating tensor function: with the
 * allocator hook failing the k-th allocation for k = 0, 1, 2, ... each call
 * must return NULL with NNL_ERR_NOMEM and leave nothing allocated, until k
 * is large enough for it to succeed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "oomcheck.h"

#include <string.h>

#include "core/alloc.h"
#include "tensor/tensor.h"
#include "simd/gemm.h"

/* Inputs shared by the makers below; created before the hook is armed. */
static nnl_tensor *m34, *m44, *v4, *r14, *c3d, *big_a, *big_b;
static long baseline; /* live allocations before the group */


static nnl_tensor *mk_new(nnl_error *err)
{
    size_t s[3] = {2, 3, 4};
    return nnl_tensor_new(3, s, err);
}
static nnl_tensor *mk_new1(nnl_error *err) { return nnl_tensor_new1(5, err); }
static nnl_tensor *mk_new2(nnl_error *err) { return nnl_tensor_new2(3, 4, err); }
static nnl_tensor *mk_new_like(nnl_error *err) { return nnl_tensor_new_like(c3d, err); }
static nnl_tensor *mk_clone(nnl_error *err) { return nnl_tensor_clone(m34, err); }
static nnl_tensor *mk_select(nnl_error *err) { return nnl_tensor_select(c3d, 1, err); }
static nnl_tensor *mk_rows(nnl_error *err) { return nnl_tensor_rows(m34, 1, 2, err); }
static nnl_tensor *mk_reshape(nnl_error *err)
{
    long s[2] = {-1, 2};
    return nnl_tensor_reshape(m34, 2, s, err);
}
static nnl_tensor *mk_add_same(nnl_error *err) { return nnl_tensor_binop(NNL_ADD, m34, m34, err); }
static nnl_tensor *mk_sub_row(nnl_error *err) { return nnl_tensor_binop(NNL_SUB, m34, v4, err); }
static nnl_tensor *mk_div_left(nnl_error *err) { return nnl_tensor_binop(NNL_DIV, r14, m44, err); }
static nnl_tensor *mk_scalar(nnl_error *err)
{
    return nnl_tensor_binop_scalar(NNL_SUB, m34, 2.0f, 1, err);
}
static nnl_tensor *mk_scalar_div(nnl_error *err)
{
    return nnl_tensor_binop_scalar(NNL_DIV, m34, 2.0f, 0, err);
}
static nnl_tensor *mk_neg(nnl_error *err) { return nnl_tensor_neg(m34, err); }
static nnl_tensor *mk_matmul(nnl_error *err) { return nnl_tensor_matmul(m34, m44, err); }
static nnl_tensor *mk_matmul_vec(nnl_error *err) { return nnl_tensor_matmul(m34, v4, err); }
static nnl_tensor *mk_matmul_big(nnl_error *err) { return nnl_tensor_matmul(big_a, big_b, err); }
static nnl_tensor *mk_sum(nnl_error *err) { return nnl_tensor_reduce(NNL_SUM, c3d, 1, err); }
static nnl_tensor *mk_mean(nnl_error *err) { return nnl_tensor_reduce(NNL_MEAN, m34, 0, err); }
static nnl_tensor *mk_max(nnl_error *err) { return nnl_tensor_reduce(NNL_MAX, m34, 1, err); }
static nnl_tensor *mk_min(nnl_error *err) { return nnl_tensor_reduce(NNL_MIN, v4, 0, err); }
static nnl_tensor *mk_argmax(nnl_error *err) { return nnl_tensor_reduce(NNL_ARGMAX, c3d, 2, err); }
static nnl_tensor *mk_cat0(nnl_error *err)
{
    const nnl_tensor *ts[3] = {m34, m44, r14};
    return nnl_tensor_cat(ts, 3, 0, err);
}
static nnl_tensor *mk_cat1(nnl_error *err)
{
    const nnl_tensor *ts[2] = {m34, m34};
    return nnl_tensor_cat(ts, 2, 1, err);
}
static nnl_tensor *mk_arange(nnl_error *err) { return nnl_tensor_arange(7, err); }
static nnl_tensor *mk_linspace(nnl_error *err) { return nnl_tensor_linspace(-1, 1, 9, err); }
static nnl_tensor *mk_eye(nnl_error *err) { return nnl_tensor_eye(4, err); }

static int setup(void **state)
{
    (void)state;
    nnl_gemm_release_workspace();
    baseline = nnl_alloc_live();
    m34 = nnl_tensor_new2(3, 4, NULL);
    m44 = nnl_tensor_new2(4, 4, NULL);
    v4 = nnl_tensor_new1(4, NULL);
    r14 = nnl_tensor_new2(1, 4, NULL);
    size_t s[3] = {2, 3, 4};
    c3d = nnl_tensor_new(3, s, NULL);
    /* Large enough that the GEMM packs into its heap workspace. */
    big_a = nnl_tensor_new2(300, 300, NULL);
    big_b = nnl_tensor_new2(300, 300, NULL);
    if (!m34 || !m44 || !v4 || !r14 || !c3d || !big_a || !big_b)
        return -1;
    nnl_tensor_fill(m34, 1.5f);
    nnl_tensor_fill(m44, 2.0f);
    nnl_tensor_fill(v4, 3.0f);
    nnl_tensor_fill(r14, 4.0f);
    nnl_tensor_fill(big_a, 0.5f);
    nnl_tensor_fill(big_b, 0.25f);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    nnl_tensor *all[] = {m34, m44, v4, r14, c3d, big_a, big_b};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        nnl_tensor_free(all[i]);
    nnl_gemm_release_workspace();
    return nnl_alloc_live() == baseline ? 0 : -1;
}


OOM_TEST(test_oom_new, mk_new, 100)
OOM_TEST(test_oom_new1, mk_new1, 100)
OOM_TEST(test_oom_new2, mk_new2, 100)
OOM_TEST(test_oom_new_like, mk_new_like, 100)
OOM_TEST(test_oom_clone, mk_clone, 100)
OOM_TEST(test_oom_select, mk_select, 100)
OOM_TEST(test_oom_rows, mk_rows, 100)
OOM_TEST(test_oom_reshape, mk_reshape, 100)
OOM_TEST(test_oom_binop_same_shape, mk_add_same, 100)
OOM_TEST(test_oom_binop_row_right, mk_sub_row, 100)
OOM_TEST(test_oom_binop_row_left, mk_div_left, 100)
OOM_TEST(test_oom_binop_scalar, mk_scalar, 100)
OOM_TEST(test_oom_binop_scalar_div, mk_scalar_div, 100)
OOM_TEST(test_oom_neg, mk_neg, 100)
OOM_TEST(test_oom_matmul, mk_matmul, 100)
OOM_TEST(test_oom_matmul_vector, mk_matmul_vec, 100)
OOM_TEST(test_oom_reduce_sum, mk_sum, 100)
OOM_TEST(test_oom_reduce_mean, mk_mean, 100)
OOM_TEST(test_oom_reduce_max, mk_max, 100)
OOM_TEST(test_oom_reduce_min, mk_min, 100)
OOM_TEST(test_oom_reduce_argmax, mk_argmax, 100)
OOM_TEST(test_oom_cat_dim0, mk_cat0, 100)
OOM_TEST(test_oom_cat_dim1, mk_cat1, 100)
OOM_TEST(test_oom_arange, mk_arange, 100)
OOM_TEST(test_oom_linspace, mk_linspace, 100)
OOM_TEST(test_oom_eye, mk_eye, 100)

/* A product that needs the GEMM's workspace: the tensor allocations and
 * the workspace allocation both fail cleanly, and the result is right once
 * everything succeeds. */
static void test_oom_matmul_with_gemm_workspace(void **state)
{
    (void)state;
    long fails = check_oom(mk_matmul_big, 100);
    assert_true(fails >= 1);
    nnl_tensor *c = mk_matmul_big(NULL);
    assert_non_null(c);
    for (size_t i = 0; i < c->numel; i++)
        assert_true(c->data[i] == 300 * 0.125f);
    nnl_tensor_free(c);
}

/* Nothing allocates a tensor when the hook fails everything from the
 * start and the request is refused for its size first. */
static void test_huge_refused_before_allocating(void **state)
{
    (void)state;
    long live = nnl_alloc_live();
    nnl_alloc_fail_after(0);
    size_t s[3] = {1000000, 1000000, 1000000};
    nnl_error err;
    assert_null(nnl_tensor_new(3, s, &err));
    nnl_alloc_fail_reset();
    assert_int_equal(err.code, NNL_ERR_ARG);
    assert_int_equal(nnl_alloc_live(), live);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_oom_new),
        cmocka_unit_test(test_oom_new1),
        cmocka_unit_test(test_oom_new2),
        cmocka_unit_test(test_oom_new_like),
        cmocka_unit_test(test_oom_clone),
        cmocka_unit_test(test_oom_select),
        cmocka_unit_test(test_oom_rows),
        cmocka_unit_test(test_oom_reshape),
        cmocka_unit_test(test_oom_binop_same_shape),
        cmocka_unit_test(test_oom_binop_row_right),
        cmocka_unit_test(test_oom_binop_row_left),
        cmocka_unit_test(test_oom_binop_scalar),
        cmocka_unit_test(test_oom_binop_scalar_div),
        cmocka_unit_test(test_oom_neg),
        cmocka_unit_test(test_oom_matmul),
        cmocka_unit_test(test_oom_matmul_vector),
        cmocka_unit_test(test_oom_reduce_sum),
        cmocka_unit_test(test_oom_reduce_mean),
        cmocka_unit_test(test_oom_reduce_max),
        cmocka_unit_test(test_oom_reduce_min),
        cmocka_unit_test(test_oom_reduce_argmax),
        cmocka_unit_test(test_oom_cat_dim0),
        cmocka_unit_test(test_oom_cat_dim1),
        cmocka_unit_test(test_oom_arange),
        cmocka_unit_test(test_oom_linspace),
        cmocka_unit_test(test_oom_eye),
        cmocka_unit_test(test_oom_matmul_with_gemm_workspace),
        cmocka_unit_test(test_huge_refused_before_allocating),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
