/* Reductions, softmax and matrix products of tensor_reduce.h against naive
 * double loops: every op along every dim, with and without keepdim, on
 * shapes whose inner blocks are wider than one column block and whose
 * long dims are cut into pieces; results equal at 1 and 2 threads; batched,
 * broadcast and transposed products; every error message. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "core/alloc.h"
#include "core/rng.h"
#include "core/threads.h"
#include "simd/gemm.h"
#include "tensor/tensor.h"
#include "tensor/tensor_reduce.h"

static long baseline;
static int setup(void **s)
{
    (void)s;
    baseline = nnl_alloc_live();
    return 0;
}
static int teardown(void **s)
{
    (void)s;
    nnl_gemm_release_workspace();
    assert_int_equal(nnl_alloc_live(), baseline);
    return 0;
}

static nnl_tensor *randt(int nd, const size_t *shape, unsigned seed)
{
    nnl_rng_global_seed(seed);
    nnl_tensor *t = nnl_tensor_new(nd, shape, NULL);
    assert_non_null(t);
    nnl_tensor_randn(t);
    return t;
}

/* Slice geometry of dim (NNL_DIM_ALL: everything). */
static void geom(const nnl_tensor *t, int dim, size_t *outer, size_t *len, size_t *inner)
{
    *outer = 1, *inner = 1, *len = dim < 0 ? t->numel : t->shape[dim];
    for (int i = 0; dim >= 0 && i < t->ndim; i++) {
        if (i < dim)
            *outer *= t->shape[i];
        if (i > dim)
            *inner *= t->shape[i];
    }
}

enum { R_SUM, R_MEAN, R_PROD, R_MAX, R_MIN, R_ARGMAX, R_ARGMIN, R_VAR0, R_VAR1, R_STD1,
       R_N1, R_N2, R_N3, R_NINF, R_LSE, R_COUNT };

/* The naive value of one slice. */
static double ref_slice(int op, const float *x, size_t len, size_t stride)
{
    double s = 0, p = 1, mean, sq = 0, mx = -INFINITY, best;
    size_t bi = 0;
    for (size_t j = 0; j < len; j++) {
        s += x[j * stride];
        p *= x[j * stride];
    }
    mean = s / (double)len;
    for (size_t j = 0; j < len; j++) {
        double d = x[j * stride] - mean;
        sq += d * d;
        if (x[j * stride] > mx)
            mx = x[j * stride];
    }
    best = x[0];
    for (size_t j = 1; j < len; j++) {
        double v = x[j * stride];
        if ((op == R_MIN || op == R_ARGMIN) ? v < best : v > best)
            best = v, bi = j;
    }
    double n1 = 0, n2 = 0, n3 = 0, ninf = 0, lse = 0;
    for (size_t j = 0; j < len; j++) {
        double a = fabs(x[j * stride]);
        n1 += a, n2 += a * a, n3 += a * a * a, ninf = a > ninf ? a : ninf;
        lse += exp(x[j * stride] - mx);
    }
    switch (op) {
    case R_SUM: return s;
    case R_MEAN: return mean;
    case R_PROD: return p;
    case R_MAX: case R_MIN: return best;
    case R_ARGMAX: case R_ARGMIN: return (double)bi;
    case R_VAR0: return sq / (double)len;
    case R_VAR1: return sq / (double)(len - 1);
    case R_STD1: return sqrt(sq / (double)(len - 1));
    case R_N1: return n1;
    case R_N2: return sqrt(n2);
    case R_N3: return cbrt(n3);
    case R_NINF: return ninf;
    default: return mx + log(lse);
    }
}

static nnl_tensor *run_op(int op, const nnl_tensor *t, int dim, int keepdim, nnl_error *err)
{
    switch (op) {
    case R_SUM: return nnl_tensor_reduce_dim(NNL_SUM, t, dim, keepdim, err);
    case R_MEAN: return nnl_tensor_reduce_dim(NNL_MEAN, t, dim, keepdim, err);
    case R_PROD: return nnl_tensor_reduce_dim(NNL_PROD, t, dim, keepdim, err);
    case R_MAX: return nnl_tensor_reduce_dim(NNL_MAX, t, dim, keepdim, err);
    case R_MIN: return nnl_tensor_reduce_dim(NNL_MIN, t, dim, keepdim, err);
    case R_ARGMAX: return nnl_tensor_reduce_dim(NNL_ARGMAX, t, dim, keepdim, err);
    case R_ARGMIN: return nnl_tensor_reduce_dim(NNL_ARGMIN, t, dim, keepdim, err);
    case R_VAR0: return nnl_tensor_var(t, dim, keepdim, 0, 0, err);
    case R_VAR1: return nnl_tensor_var(t, dim, keepdim, 1, 0, err);
    case R_STD1: return nnl_tensor_var(t, dim, keepdim, 1, 1, err);
    case R_N1: return nnl_tensor_norm(t, 1, dim, keepdim, err);
    case R_N2: return nnl_tensor_norm(t, 2, dim, keepdim, err);
    case R_N3: return nnl_tensor_norm(t, 3, dim, keepdim, err);
    case R_NINF: return nnl_tensor_norm(t, INFINITY, dim, keepdim, err);
    default: return nnl_tensor_logsumexp(t, dim, keepdim, err);
    }
}

/* Every op along every dim (and all) of t, with and without keepdim. */
static void check_all_ops(const nnl_tensor *t)
{
    for (int dim = -1; dim < t->ndim; dim++)
        for (int keep = 0; keep < 2; keep++)
            for (int op = 0; op < R_COUNT; op++) {
                size_t outer, len, inner;
                geom(t, dim, &outer, &len, &inner);
                nnl_error err;
                nnl_tensor *y = run_op(op, t, dim, keep, &err);
                assert_non_null(y);
                /* shape: dim dropped or kept as 1 */
                if (dim >= 0 && keep) {
                    assert_int_equal(y->ndim, t->ndim);
                    assert_int_equal(y->shape[dim], 1);
                } else if (dim >= 0) {
                    assert_int_equal(y->ndim, t->ndim > 1 ? t->ndim - 1 : 1);
                } else {
                    assert_int_equal(y->ndim, keep ? t->ndim : 1);
                }
                assert_int_equal(y->numel, outer * inner);
                for (size_t o = 0; o < outer; o++)
                    for (size_t i = 0; i < inner; i++) {
                        double want = ref_slice(op, t->data + o * len * inner + i, len, inner);
                        double got = y->data[o * inner + i];
                        double tol = op == R_LSE ? 2e-6 : op == R_PROD ? 1e-5 : 1e-6;
                        if (isnan(want) && isnan(got))
                            continue; /* var of one element with correction 1 */
                        if (!(fabs(got - want) <= tol * (1 + fabs(want))))
                            fail_msg("op %d dim %d keep %d slice %zu,%zu: %.9g, want %.9g", op,
                                     dim, keep, o, i, got, want);
                    }
                nnl_tensor_free(y);
            }
}

static void test_every_op_every_dim(void **s)
{
    (void)s;
    size_t s1[3] = {3, 4, 5}, s2[3] = {2, 3, 600}, s3[1] = {37}, s4[2] = {7, 1};
    nnl_tensor *ts[4] = {randt(3, s1, 1), randt(3, s2, 2), randt(1, s3, 3), randt(2, s4, 4)};
    for (int i = 0; i < 4; i++) {
        check_all_ops(ts[i]);
        nnl_tensor_free(ts[i]);
    }
}

/* Long dims are cut into pieces combined in order: same values as the
 * naive loop, and the same bits at 1 and 2 threads. */
static void test_large_pieces_and_threads(void **s)
{
    (void)s;
    size_t sa[2] = {40000, 3}, sb[1] = {200001}, sc[2] = {3, 70000};
    nnl_tensor *ts[3] = {randt(2, sa, 5), randt(1, sb, 6), randt(2, sc, 7)};
    int dims[3] = {0, 0, 1};
    int was = nnl_threads_get();
    for (int c = 0; c < 3; c++) {
        const nnl_tensor *t = ts[c];
        int ops[] = {R_SUM, R_MEAN, R_MAX, R_ARGMIN, R_VAR1, R_N2, R_NINF};
        for (size_t q = 0; q < sizeof ops / sizeof ops[0]; q++) {
            nnl_tensor *y[2];
            for (int th = 1; th <= 2; th++) {
                assert_int_equal(nnl_threads_set(th, NULL), NNL_OK);
                y[th - 1] = run_op(ops[q], t, dims[c], 0, NULL);
                assert_non_null(y[th - 1]);
            }
            assert_memory_equal(y[0]->data, y[1]->data, y[0]->numel * sizeof(float));
            size_t outer, len, inner;
            geom(t, dims[c], &outer, &len, &inner);
            for (size_t o = 0; o < outer; o++)
                for (size_t i = 0; i < inner; i++) {
                    double want = ref_slice(ops[q], t->data + o * len * inner + i, len, inner);
                    double got = y[0]->data[o * inner + i];
                    assert_true(fabs(got - want) <= 1e-6 * (1 + fabs(want)));
                }
            nnl_tensor_free(y[0]);
            nnl_tensor_free(y[1]);
        }
        double a, b;
        assert_int_equal(nnl_threads_set(1, NULL), NNL_OK);
        assert_int_equal(nnl_tensor_reduce_all(NNL_SUM, t, &a, NULL, NULL), NNL_OK);
        assert_int_equal(nnl_threads_set(2, NULL), NNL_OK);
        assert_int_equal(nnl_tensor_reduce_all(NNL_SUM, t, &b, NULL, NULL), NNL_OK);
        assert_true(a == b);
        double naive = 0;
        for (size_t i = 0; i < t->numel; i++)
            naive += t->data[i];
        assert_true(fabs(a - naive) < 1e-9 * (1 + fabs(naive)));
    }
    nnl_threads_set(was, NULL);
    for (int c = 0; c < 3; c++)
        nnl_tensor_free(ts[c]);
}

static void test_whole_tensor_forms(void **s)
{
    (void)s;
    float v[6] = {3, -1, 7, 7, -1, 2};
    nnl_tensor *t = nnl_tensor_new1(6, NULL);
    memcpy(t->data, v, sizeof v);
    double d;
    size_t i;
    assert_int_equal(nnl_tensor_reduce_all(NNL_PROD, t, &d, NULL, NULL), NNL_OK);
    assert_true(d == 294.0);
    assert_int_equal(nnl_tensor_reduce_all(NNL_MAX, t, &d, &i, NULL), NNL_OK);
    assert_true(d == 7 && i == 2);
    assert_int_equal(nnl_tensor_reduce_all(NNL_ARGMIN, t, NULL, &i, NULL), NNL_OK);
    assert_int_equal(i, 1); /* first of the tie */
    assert_int_equal(nnl_tensor_var_all(t, 1, 0, &d, NULL), NNL_OK);
    /* sum of squared deviations: 113 - 17^2 / 6 = 389 / 6, over 5 */
    assert_true(fabs(d - 389.0 / 30) < 1e-12);
    assert_int_equal(nnl_tensor_var_all(t, 0, 1, &d, NULL), NNL_OK);
    assert_true(fabs(d - sqrt(389.0 / 36)) < 1e-12);
    assert_int_equal(nnl_tensor_norm_all(t, 1, &d, NULL), NNL_OK);
    assert_true(d == 21);
    assert_int_equal(nnl_tensor_norm_all(t, INFINITY, &d, NULL), NNL_OK);
    assert_true(d == 7);
    t->data[3] = NAN;
    assert_int_equal(nnl_tensor_reduce_all(NNL_ARGMIN, t, NULL, &i, NULL), NNL_OK);
    assert_int_equal(i, 3); /* NaN is the extreme either way */
    assert_int_equal(nnl_tensor_norm_all(t, INFINITY, &d, NULL), NNL_OK);
    assert_true(isnan(d));
    nnl_error err;
    assert_int_equal(nnl_tensor_norm_all(t, 0, &d, &err), NNL_ERR_ARG);
    assert_string_equal(err.msg, "norm: p must be > 0 (or inf), got 0");
    assert_int_equal(nnl_tensor_norm_all(t, -1, &d, &err), NNL_ERR_ARG);
    /* one element: var with correction 1 is NaN, with 0 it is 0 */
    nnl_tensor *one = nnl_tensor_new1(1, NULL);
    assert_int_equal(nnl_tensor_var_all(one, 1, 0, &d, NULL), NNL_OK);
    assert_true(isnan(d));
    assert_int_equal(nnl_tensor_var_all(one, 0, 0, &d, NULL), NNL_OK);
    assert_true(d == 0);
    nnl_tensor *e = nnl_tensor_new1(0, NULL);
    assert_int_equal(nnl_tensor_reduce_all(NNL_PROD, e, &d, NULL, NULL), NNL_OK);
    assert_true(d == 1);
    assert_int_equal(nnl_tensor_reduce_all(NNL_MIN, e, &d, NULL, &err), NNL_ERR_ARG);
    assert_string_equal(err.msg, "min: tensor is empty");
    nnl_tensor_free(e);
    nnl_tensor_free(one);
    nnl_tensor_free(t);
}

static void test_extreme_values_and_indices(void **s)
{
    (void)s;
    float v[6] = {1, 5, 5, 9, 2, NAN};
    size_t sh[2] = {2, 3};
    nnl_tensor *t = nnl_tensor_new(2, sh, NULL);
    memcpy(t->data, v, sizeof v);
    nnl_tensor *val, *ix;
    assert_int_equal(nnl_tensor_extreme(t, 1, 1, 0, &val, &ix, NULL), NNL_OK);
    assert_int_equal(val->ndim, 2);
    assert_int_equal(val->shape[1], 1);
    assert_true(val->data[0] == 5 && ix->data[0] == 1); /* first of the tie */
    assert_true(isnan(val->data[1]) && ix->data[1] == 2);
    nnl_tensor_free(val);
    nnl_tensor_free(ix);
    assert_int_equal(nnl_tensor_extreme(t, 0, 0, 1, &val, &ix, NULL), NNL_OK);
    assert_true(val->data[0] == 1 && ix->data[0] == 0 && val->data[1] == 2 && ix->data[1] == 1);
    assert_true(isnan(val->data[2]) && ix->data[2] == 1);
    nnl_tensor_free(val);
    nnl_tensor_free(ix);
    nnl_error err;
    nnl_tensor *z = nnl_tensor_new2(2, 0, NULL);
    assert_int_equal(nnl_tensor_extreme(z, 1, 0, 0, &val, &ix, &err), NNL_ERR_ARG);
    assert_null(val);
    assert_string_equal(err.msg, "max: dimension 2 of shape [2x0] is empty");
    assert_int_equal(nnl_tensor_extreme(t, 2, 0, 0, &val, NULL, &err), NNL_ERR_RANGE);
    assert_string_equal(err.msg, "max: dimension 3 out of range for shape [2x3]");
    nnl_tensor_free(z);
    nnl_tensor_free(t);
}

static void test_cumsum_softmax_every_dim(void **s)
{
    (void)s;
    size_t sh[3] = {3, 4, 530};
    nnl_tensor *t = randt(3, sh, 9);
    for (int dim = 0; dim < 3; dim++) {
        size_t outer, len, inner;
        geom(t, dim, &outer, &len, &inner);
        nnl_tensor *c = nnl_tensor_cumsum(t, dim, NULL);
        nnl_tensor *sm = nnl_tensor_softmax(t, dim, NULL);
        nnl_tensor *ls = nnl_tensor_log_softmax(t, dim, NULL);
        assert_non_null(c);
        assert_non_null(sm);
        assert_non_null(ls);
        for (size_t o = 0; o < outer; o++)
            for (size_t i = 0; i < inner; i++) {
                const float *x = t->data + o * len * inner + i;
                double run = 0, lse = ref_slice(R_LSE, x, len, inner);
                for (size_t j = 0; j < len; j++) {
                    size_t at = o * len * inner + j * inner + i;
                    run += x[j * inner];
                    assert_true(fabs(c->data[at] - run) <= 1e-6 * (1 + fabs(run)));
                    double p = exp(x[j * inner] - lse);
                    assert_true(fabs(sm->data[at] - p) <= 2e-6 * p + 1e-7);
                    assert_true(fabs(ls->data[at] - (x[j * inner] - lse)) <= 4e-6 * (1 + fabs(lse)));
                }
            }
        nnl_tensor_free(c);
        nnl_tensor_free(sm);
        nnl_tensor_free(ls);
    }
    /* a NaN makes its slice NaN; -inf entries get 0 */
    t->data[0] = NAN;
    t->data[1] = -INFINITY;
    nnl_tensor *s0 = nnl_tensor_softmax(t, 0, NULL), *s2 = nnl_tensor_softmax(t, 2, NULL);
    assert_true(isnan(s0->data[0]) && isnan(s0->data[530 * 4]) && !isnan(s0->data[1]));
    assert_true(isnan(s2->data[0]) && isnan(s2->data[529]) && !isnan(s2->data[530]));
    assert_true(s0->data[1] == 0.0f);
    nnl_error err;
    assert_null(nnl_tensor_softmax(t, 3, &err));
    assert_string_equal(err.msg, "softmax: dimension 4 out of range for shape [3x4x530]");
    assert_null(nnl_tensor_cumsum(t, NNL_DIM_ALL, &err));
    assert_int_equal(err.code, NNL_ERR_RANGE);
    nnl_tensor_free(s0);
    nnl_tensor_free(s2);
    /* logsumexp of an empty dim is -inf */
    nnl_tensor *z = nnl_tensor_new2(3, 0, NULL);
    nnl_tensor *lz = nnl_tensor_logsumexp(z, 1, 0, NULL), *l0 = nnl_tensor_logsumexp(z, 0, 0, NULL);
    assert_true(lz->numel == 3 && isinf(lz->data[2]) && lz->data[2] < 0);
    assert_int_equal(l0->numel, 0);
    nnl_tensor_free(lz);
    nnl_tensor_free(l0);
    nnl_tensor_free(z);
    nnl_tensor_free(t);
}

/* op(a)[i][p] for a stored r x c (batch offset applied). */
static double at_op(const float *a, size_t c, int tr, size_t i, size_t p)
{
    return tr ? a[p * c + i] : a[i * c + p];
}

static void check_product(const nnl_tensor *a, const nnl_tensor *b, int ta, int tb,
                          const nnl_tensor *y, size_t batch, size_t astep, size_t bstep)
{
    size_t ar = a->ndim >= 2 ? a->shape[a->ndim - 2] : 1, ac = a->shape[a->ndim - 1];
    size_t br = b->ndim >= 2 ? b->shape[b->ndim - 2] : b->shape[0];
    size_t bc = b->ndim >= 2 ? b->shape[b->ndim - 1] : 1;
    size_t m = ta ? ac : ar, k = ta ? ar : ac, n = tb ? br : bc;
    assert_int_equal(y->numel, batch * m * n);
    for (size_t q = 0; q < batch; q++)
        for (size_t i = 0; i < m; i++)
            for (size_t j = 0; j < n; j++) {
                double s = 0;
                for (size_t p = 0; p < k; p++)
                    s += at_op(a->data + q * astep, ac, ta, i, p) *
                         at_op(b->data + q * bstep, bc, tb, p, j);
                double got = y->data[(q * m + i) * n + j];
                assert_true(fabs(got - s) <= 1e-4 * (1 + fabs(s)));
            }
}

static void test_matmul_batched_broadcast_transposed(void **s)
{
    (void)s;
    size_t a3[3] = {4, 5, 6}, b3[3] = {4, 6, 3}, b1[3] = {1, 6, 3}, b2[2] = {6, 3};
    size_t at3[3] = {4, 6, 5}, bt3[3] = {4, 3, 6};
    nnl_tensor *A = randt(3, a3, 11), *B = randt(3, b3, 12), *B1 = randt(3, b1, 13);
    nnl_tensor *B2 = randt(2, b2, 14), *AT = randt(3, at3, 15), *BT = randt(3, bt3, 16);
    nnl_tensor *y = nnl_tensor_matmul(A, B, NULL);
    assert_int_equal(y->ndim, 3);
    assert_int_equal(y->shape[0], 4);
    assert_int_equal(y->shape[2], 3);
    check_product(A, B, 0, 0, y, 4, 30, 18);
    nnl_tensor_free(y);
    y = nnl_tensor_matmul(A, B1, NULL); /* a batch of 1 broadcasts */
    check_product(A, B1, 0, 0, y, 4, 30, 0);
    nnl_tensor_free(y);
    y = nnl_tensor_matmul(A, B2, NULL); /* 3-D times 2-D */
    check_product(A, B2, 0, 0, y, 4, 30, 0);
    nnl_tensor_free(y);
    y = nnl_tensor_matmul_t(AT, B, 1, 0, NULL); /* A^T B without the transpose */
    check_product(AT, B, 1, 0, y, 4, 30, 18);
    nnl_tensor_free(y);
    y = nnl_tensor_matmul_t(A, BT, 0, 1, NULL);
    check_product(A, BT, 0, 1, y, 4, 30, 18);
    nnl_tensor_free(y);
    y = nnl_tensor_matmul_t(AT, BT, 1, 1, NULL);
    check_product(AT, BT, 1, 1, y, 4, 30, 18);
    nnl_tensor_free(y);
    /* 2-D times 3-D: the 2-D one is every batch's left factor */
    size_t a2[2] = {5, 6};
    nnl_tensor *A2 = randt(2, a2, 17);
    y = nnl_tensor_matmul(A2, B, NULL);
    assert_int_equal(y->ndim, 3);
    check_product(A2, B, 0, 0, y, 4, 0, 18);
    nnl_tensor_free(y);
    /* 1-D times 3-D: [6] x [4x6x3] -> [4x3] */
    size_t v6 = 6;
    nnl_tensor *v = randt(1, &v6, 18);
    y = nnl_tensor_matmul(v, B, NULL);
    assert_int_equal(y->ndim, 2);
    assert_int_equal(y->shape[0], 4);
    assert_int_equal(y->shape[1], 3);
    check_product(v, B, 0, 0, y, 4, 0, 18);
    nnl_tensor_free(y);
    /* 3-D times 1-D: [4x5x6] x [6] -> [4x5] */
    y = nnl_tensor_matmul(A, v, NULL);
    assert_int_equal(y->ndim, 2);
    check_product(A, v, 0, 0, y, 4, 30, 0);
    nnl_tensor_free(y);
    nnl_error err;
    size_t a4[2] = {2, 3}, b4[2] = {4, 5}, bb[3] = {3, 6, 3};
    nnl_tensor *x23 = nnl_tensor_new(2, a4, NULL), *x45 = nnl_tensor_new(2, b4, NULL);
    nnl_tensor *Bb = nnl_tensor_new(3, bb, NULL);
    assert_null(nnl_tensor_matmul(x23, x45, &err));
    assert_string_equal(err.msg, "matmul: shapes [2x3] and [4x5] do not match (3 != 4)");
    assert_null(nnl_tensor_matmul(A, Bb, &err));
    assert_string_equal(err.msg, "matmul: batch dimensions of [4x5x6] and [3x6x3] do not broadcast");
    assert_null(nnl_tensor_matmul_t(v, B, 1, 0, &err));
    assert_int_equal(err.code, NNL_ERR_SHAPE);
    assert_null(nnl_tensor_mm(A, B, &err));
    assert_string_equal(err.msg, "mm: needs 2-D tensors, got [4x5x6] and [4x6x3]");
    assert_null(nnl_tensor_mm(x23, x45, &err));
    assert_string_equal(err.msg, "mm: shapes [2x3] and [4x5] do not match (3 != 4)");
    y = nnl_tensor_mm(A2, B2, NULL);
    check_product(A2, B2, 0, 0, y, 1, 0, 0);
    nnl_tensor_free(y);
    nnl_tensor *all[] = {A, B, B1, B2, AT, BT, A2, v, x23, x45, Bb};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        nnl_tensor_free(all[i]);
}

static void test_dot_and_outer(void **s)
{
    (void)s;
    float av[3] = {1, 2, 3}, bv[2] = {4, -5};
    nnl_tensor *a = nnl_tensor_new1(3, NULL), *b = nnl_tensor_new1(2, NULL);
    memcpy(a->data, av, sizeof av);
    memcpy(b->data, bv, sizeof bv);
    nnl_tensor *d = nnl_tensor_dot(a, a, NULL);
    assert_int_equal(d->ndim, 1);
    assert_int_equal(d->numel, 1);
    assert_true(d->data[0] == 14);
    nnl_tensor *o = nnl_tensor_outer(a, b, NULL);
    assert_int_equal(o->shape[0], 3);
    assert_int_equal(o->shape[1], 2);
    float want[6] = {4, -5, 8, -10, 12, -15};
    assert_memory_equal(o->data, want, sizeof want);
    nnl_error err;
    assert_null(nnl_tensor_dot(a, b, &err));
    assert_string_equal(err.msg, "dot: shapes [3] and [2] do not match (3 != 2)");
    assert_null(nnl_tensor_dot(a, o, &err));
    assert_string_equal(err.msg, "dot: needs 1-D tensors, got [3] and [3x2]");
    assert_null(nnl_tensor_outer(o, b, &err));
    assert_string_equal(err.msg, "outer: needs 1-D tensors, got [3x2] and [2]");
    nnl_tensor_free(d);
    nnl_tensor_free(o);
    nnl_tensor_free(a);
    nnl_tensor_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_every_op_every_dim, setup, teardown),
        cmocka_unit_test_setup_teardown(test_large_pieces_and_threads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_whole_tensor_forms, setup, teardown),
        cmocka_unit_test_setup_teardown(test_extreme_values_and_indices, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cumsum_softmax_every_dim, setup, teardown),
        cmocka_unit_test_setup_teardown(test_matmul_batched_broadcast_transposed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dot_and_outer, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
