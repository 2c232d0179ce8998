/* Out-of-memory handling of the reductions, softmax, products and their
 * autograd forms (tensor_reduce.h, ag_reduce.h): with the allocator hook
 * failing the k-th allocation for k = 0, 1, 2, ... each call returns NULL
 * (or a failing status) with NNL_ERR_NOMEM and leaves nothing allocated,
 * until k is large enough; the same for a backward through each op. The
 * long inputs take the path with partial results per piece. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "oomcheck.h"

#include "core/alloc.h"
#include "core/threads.h"
#include "simd/gemm.h"
#include "tensor/ag_reduce.h"
#include "tensor/autograd.h"

static nnl_tensor *c3d, *lng, *col, *a3, *b2, *v4;
static long baseline;
static int threads_before;


static nnl_tensor *mk_sum_pieces(nnl_error *e) { return nnl_tensor_reduce_dim(NNL_SUM, lng, 0, 1, e); }
static nnl_tensor *mk_sum_col(nnl_error *e) { return nnl_tensor_reduce_dim(NNL_SUM, col, 0, 0, e); }
static nnl_tensor *mk_max_pieces(nnl_error *e) { return nnl_tensor_reduce_dim(NNL_MAX, col, 0, 0, e); }
static nnl_tensor *mk_argmin(nnl_error *e) { return nnl_tensor_reduce_dim(NNL_ARGMIN, c3d, 1, 0, e); }
static nnl_tensor *mk_var(nnl_error *e) { return nnl_tensor_var(lng, NNL_DIM_ALL, 0, 1, 1, e); }
static nnl_tensor *mk_norm_inf(nnl_error *e) { return nnl_tensor_norm(col, INFINITY, 0, 0, e); }
static nnl_tensor *mk_norm3(nnl_error *e) { return nnl_tensor_norm(c3d, 3, 2, 0, e); }
static nnl_tensor *mk_cumsum(nnl_error *e) { return nnl_tensor_cumsum(c3d, 0, e); }
static nnl_tensor *mk_lse(nnl_error *e) { return nnl_tensor_logsumexp(c3d, 1, 1, e); }
static nnl_tensor *mk_softmax(nnl_error *e) { return nnl_tensor_softmax(c3d, 0, e); }
static nnl_tensor *mk_log_softmax(nnl_error *e) { return nnl_tensor_log_softmax(c3d, 2, e); }
static nnl_tensor *mk_matmul_batch(nnl_error *e) { return nnl_tensor_matmul_t(a3, a3, 1, 0, e); }
static nnl_tensor *mk_matmul_fold(nnl_error *e) { return nnl_tensor_matmul(a3, b2, e); }
static nnl_tensor *mk_outer(nnl_error *e) { return nnl_tensor_outer(v4, v4, e); }
static nnl_tensor *mk_extreme(nnl_error *e)
{
    nnl_tensor *v, *ix;
    if (nnl_tensor_extreme(col, 0, 0, 1, &v, &ix, e) != NNL_OK)
        return NULL;
    nnl_tensor_free(ix);
    return v;
}

/* An ag op on a leaf and a backward through it; returns the leaf's
 * gradient (a copy) so that check_oom sees one result. */
typedef nnl_tensor *(*ag_fn)(const nnl_tensor *x, nnl_error *err);
static nnl_tensor *through(ag_fn f, nnl_error *err)
{
    nnl_tensor *x = nnl_tensor_clone(c3d, err), *y = NULL, *s = NULL, *g = NULL;
    if (!x || nnl_ag_requires_grad(x, 1, err) != NNL_OK)
        goto done;
    if (!(y = f(x, err)) || !(s = nnl_ag_sum(y, NNL_DIM_ALL, 0, err)))
        goto done;
    if (nnl_ag_backward(s, NULL, 0, err) != NNL_OK)
        goto done;
    g = nnl_tensor_clone(nnl_ag_grad(x), err);
done:
    nnl_tensor_free(s);
    nnl_tensor_free(y);
    nnl_tensor_free(x);
    return g;
}
static nnl_tensor *f_prod(const nnl_tensor *x, nnl_error *e) { return nnl_ag_prod(x, 1, 0, e); }
static nnl_tensor *f_std(const nnl_tensor *x, nnl_error *e) { return nnl_ag_std(x, 0, 1, 1, e); }
static nnl_tensor *f_softmax(const nnl_tensor *x, nnl_error *e) { return nnl_ag_softmax(x, 1, e); }
static nnl_tensor *f_matmul(const nnl_tensor *x, nnl_error *e) { return nnl_ag_matmul(x, b2, e); }
static nnl_tensor *f_max(const nnl_tensor *x, nnl_error *e)
{
    nnl_tensor *v, *ix;
    if (nnl_ag_extreme(x, 2, 0, 0, &v, &ix, e) != NNL_OK)
        return NULL;
    nnl_tensor_free(ix);
    return v;
}
static nnl_tensor *mk_ag_prod(nnl_error *e) { return through(f_prod, e); }
static nnl_tensor *mk_ag_std(nnl_error *e) { return through(f_std, e); }
static nnl_tensor *mk_ag_softmax(nnl_error *e) { return through(f_softmax, e); }
static nnl_tensor *mk_ag_matmul(nnl_error *e) { return through(f_matmul, e); }
static nnl_tensor *mk_ag_max(nnl_error *e) { return through(f_max, e); }

static int setup(void **state)
{
    (void)state;
    threads_before = nnl_threads_get();
    nnl_threads_set(1, NULL); /* the pool allocates nothing inside the checks */
    nnl_gemm_release_workspace();
    baseline = nnl_alloc_live();
    size_t s3[3] = {2, 3, 4}, sl[1] = {70000}, sc[2] = {40000, 3}, sa[3] = {3, 4, 4};
    c3d = nnl_tensor_new(3, s3, NULL);
    lng = nnl_tensor_new(1, sl, NULL);
    col = nnl_tensor_new(2, sc, NULL);
    a3 = nnl_tensor_new(3, sa, NULL);
    b2 = nnl_tensor_new2(4, 2, NULL);
    v4 = nnl_tensor_new1(4, NULL);
    if (!c3d || !lng || !col || !a3 || !b2 || !v4)
        return -1;
    nnl_tensor *all[] = {c3d, lng, col, a3, b2, v4};
    for (size_t t = 0; t < sizeof all / sizeof all[0]; t++)
        for (size_t i = 0; i < all[t]->numel; i++)
            all[t]->data[i] = (float)((i * 37) % 11) / 7.0f - 0.6f;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    nnl_tensor *all[] = {c3d, lng, col, a3, b2, v4};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        nnl_tensor_free(all[i]);
    nnl_gemm_release_workspace();
    nnl_threads_set(threads_before, NULL);
    return nnl_alloc_live() == baseline ? 0 : -1;
}


OOM_TEST(test_oom_sum_in_pieces, mk_sum_pieces, 200)
OOM_TEST(test_oom_column_sum_in_pieces, mk_sum_col, 200)
OOM_TEST(test_oom_max_in_pieces, mk_max_pieces, 200)
OOM_TEST(test_oom_argmin, mk_argmin, 200)
OOM_TEST(test_oom_std_all, mk_var, 200)
OOM_TEST(test_oom_norm_inf, mk_norm_inf, 200)
OOM_TEST(test_oom_norm3, mk_norm3, 200)
OOM_TEST(test_oom_cumsum, mk_cumsum, 200)
OOM_TEST(test_oom_logsumexp, mk_lse, 200)
OOM_TEST(test_oom_softmax, mk_softmax, 200)
OOM_TEST(test_oom_log_softmax, mk_log_softmax, 200)
OOM_TEST(test_oom_matmul_batched_transposed, mk_matmul_batch, 200)
OOM_TEST(test_oom_matmul_folded, mk_matmul_fold, 200)
OOM_TEST(test_oom_outer, mk_outer, 200)
OOM_TEST(test_oom_extreme, mk_extreme, 200)
OOM_TEST(test_oom_backward_prod, mk_ag_prod, 200)
OOM_TEST(test_oom_backward_std, mk_ag_std, 200)
OOM_TEST(test_oom_backward_softmax, mk_ag_softmax, 200)
OOM_TEST(test_oom_backward_matmul, mk_ag_matmul, 200)
OOM_TEST(test_oom_backward_max, mk_ag_max, 200)

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_oom_sum_in_pieces),
        cmocka_unit_test(test_oom_column_sum_in_pieces),
        cmocka_unit_test(test_oom_max_in_pieces),
        cmocka_unit_test(test_oom_argmin),
        cmocka_unit_test(test_oom_std_all),
        cmocka_unit_test(test_oom_norm_inf),
        cmocka_unit_test(test_oom_norm3),
        cmocka_unit_test(test_oom_cumsum),
        cmocka_unit_test(test_oom_logsumexp),
        cmocka_unit_test(test_oom_softmax),
        cmocka_unit_test(test_oom_log_softmax),
        cmocka_unit_test(test_oom_matmul_batched_transposed),
        cmocka_unit_test(test_oom_matmul_folded),
        cmocka_unit_test(test_oom_outer),
        cmocka_unit_test(test_oom_extreme),
        cmocka_unit_test(test_oom_backward_prod),
        cmocka_unit_test(test_oom_backward_std),
        cmocka_unit_test(test_oom_backward_softmax),
        cmocka_unit_test(test_oom_backward_matmul),
        cmocka_unit_test(test_oom_backward_max),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
