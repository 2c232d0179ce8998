/* Autograd of the reductions, softmax and products (tensor/ag_reduce.h):
 * finite-difference checks (tests/agcheck.h) of every op along every dim
 * and over all elements, with and without keepdim; prod with zeros;
 * max/min sending the gradient to the first extreme only; matmul in its
 * 2-D, batched, broadcast-batch and 1-D forms, mm, dot and outer; ops on
 * inputs that need no gradient record nothing. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "agcheck.h"
#include "core/alloc.h"
#include "core/rng.h"
#include "simd/gemm.h"
#include "tensor/ag_reduce.h"
#include "tensor/autograd.h"

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
    nnl_ag_set_enabled(1);
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

enum { OP_SUM, OP_MEAN, OP_PROD, OP_MAX, OP_MIN, OP_VAR, OP_VAR0, OP_STD, OP_N1, OP_N2, OP_N3,
       OP_NINF, OP_LSE, OP_SOFTMAX, OP_LOGSOFTMAX, OP_CUMSUM, OP_COUNT };
static const char *op_names[OP_COUNT] = {"sum", "mean", "prod", "max", "min", "var", "var0",
                                         "std", "norm1", "norm2", "norm3", "norminf", "lse",
                                         "softmax", "log_softmax", "cumsum"};

typedef struct rctx {
    int op, dim, keep;
} rctx;

static nnl_tensor *f_reduce(nnl_tensor *const *in, void *c, nnl_error *err)
{
    const rctx *r = c;
    const nnl_tensor *x = in[0];
    nnl_tensor *v = NULL;
    switch (r->op) {
    case OP_SUM: return nnl_ag_sum(x, r->dim, r->keep, err);
    case OP_MEAN: return nnl_ag_mean(x, r->dim, r->keep, err);
    case OP_PROD: return nnl_ag_prod(x, r->dim, r->keep, err);
    case OP_MAX:
    case OP_MIN:
        if (nnl_ag_extreme(x, r->dim, r->keep, r->op == OP_MIN, &v, NULL, err) != NNL_OK)
            return NULL;
        return v;
    case OP_VAR: return nnl_ag_var(x, r->dim, r->keep, 1, err);
    case OP_VAR0: return nnl_ag_var(x, r->dim, r->keep, 0, err);
    case OP_STD: return nnl_ag_std(x, r->dim, r->keep, 1, err);
    case OP_N1: return nnl_ag_norm(x, 1, r->dim, r->keep, err);
    case OP_N2: return nnl_ag_norm(x, 2, r->dim, r->keep, err);
    case OP_N3: return nnl_ag_norm(x, 3, r->dim, r->keep, err);
    case OP_NINF: return nnl_ag_norm(x, INFINITY, r->dim, r->keep, err);
    case OP_LSE: return nnl_ag_logsumexp(x, r->dim, r->keep, err);
    case OP_SOFTMAX: return nnl_ag_softmax(x, r->dim, err);
    case OP_LOGSOFTMAX: return nnl_ag_log_softmax(x, r->dim, err);
    default: return nnl_ag_cumsum(x, r->dim, err);
    }
}

/* Every op, every dim and all elements, keepdim or not, on two shapes. */
static void test_reductions_every_dim(void **s)
{
    (void)s;
    size_t s2[2] = {3, 4}, s3[3] = {2, 3, 4};
    for (int shp = 0; shp < 2; shp++) {
        int nd = shp ? 3 : 2;
        for (int op = 0; op < OP_COUNT; op++) {
            int elementwise = op >= OP_SOFTMAX; /* shape-keeping: a dim, no keepdim */
            for (int dim = elementwise ? 0 : NNL_DIM_ALL; dim < nd; dim++)
                for (int keep = 0; keep < (elementwise ? 1 : 2); keep++) {
                    nnl_tensor *x = randt(nd, shp ? s3 : s2, 100u + (unsigned)op);
                    /* spread the values so extremes are far from ties */
                    for (size_t i = 0; i < x->numel; i++)
                        x->data[i] = x->data[i] + 0.37f * (float)((i * 7) % x->numel);
                    if (op == OP_PROD) /* keep products moderate */
                        for (size_t i = 0; i < x->numel; i++)
                            x->data[i] = 0.5f + 0.1f * x->data[i];
                    rctx c = {op, dim, keep};
                    nnl_tensor *in[1] = {x};
                    if (!agcheck(f_reduce, &c, in, 1, 1e-2, 2e-2))
                        fail_msg("%s dim %d keepdim %d shape %d-D", op_names[op], dim, keep,
                                 nd);
                    nnl_tensor_free(x);
                }
        }
    }
}

/* The product of the others, also with one or two zeros in a slice. */
static void test_prod_with_zeros(void **s)
{
    (void)s;
    float v[8] = {2, 0, 3, -1, 0, 0, 4, 5}; /* rows: one zero; two zeros */
    size_t sh[2] = {2, 4};
    nnl_tensor *x = nnl_tensor_new(2, sh, NULL);
    memcpy(x->data, v, sizeof v);
    nnl_error err;
    assert_int_equal(nnl_ag_requires_grad(x, 1, &err), NNL_OK);
    nnl_tensor *p = nnl_ag_prod(x, 1, 0, &err), *l = nnl_ag_sum(p, NNL_DIM_ALL, 0, &err);
    assert_int_equal(nnl_ag_backward(l, NULL, 0, &err), NNL_OK);
    const float *g = nnl_ag_grad(x)->data;
    float want[8] = {0, -6, 0, 0, 0, 0, 0, 0};
    assert_memory_equal(g, want, sizeof want);
    nnl_tensor_free(l);
    nnl_tensor_free(p);
    /* and along dim 0: column 1 has zeros in both rows */
    rctx c = {OP_PROD, 0, 1};
    nnl_tensor *in[1] = {x};
    assert_true(agcheck(f_reduce, &c, in, 1, 1e-2, 1e-2));
    nnl_tensor_free(x);
}

/* A tie sends the whole gradient to the first extreme (values and
 * indices as the forward returned them). */
static void test_max_min_first_extreme(void **s)
{
    (void)s;
    float v[6] = {1, 7, 7, -2, -2, 0};
    nnl_tensor *x = nnl_tensor_new1(6, NULL);
    memcpy(x->data, v, sizeof v);
    nnl_error err;
    assert_int_equal(nnl_ag_requires_grad(x, 1, &err), NNL_OK);
    nnl_tensor *mx, *mn, *ix;
    assert_int_equal(nnl_ag_extreme(x, NNL_DIM_ALL, 0, 0, &mx, &ix, &err), NNL_OK);
    assert_true(mx->data[0] == 7 && ix->data[0] == 1);
    ix->data[0] = 5; /* the caller's indices are its own: the node kept a copy */
    assert_int_equal(nnl_ag_backward(mx, NULL, 0, &err), NNL_OK);
    float want[6] = {0, 1, 0, 0, 0, 0};
    assert_memory_equal(nnl_ag_grad(x)->data, want, sizeof want);
    assert_int_equal(nnl_ag_extreme(x, 0, 1, 1, &mn, NULL, &err), NNL_OK);
    assert_int_equal(nnl_ag_backward(mn, NULL, 0, &err), NNL_OK);
    want[3] = 1;
    assert_memory_equal(nnl_ag_grad(x)->data, want, sizeof want);
    assert_string_equal(nnl_ag_op_name(mn), "min");
    nnl_tensor_free(mx);
    nnl_tensor_free(mn);
    nnl_tensor_free(ix);
    nnl_tensor_free(x);
}

typedef struct pctx {
    int op; /* 0 matmul, 1 mm, 2 dot, 3 outer */
} pctx;

static nnl_tensor *f_product(nnl_tensor *const *in, void *c, nnl_error *err)
{
    switch (((const pctx *)c)->op) {
    case 0: return nnl_ag_matmul(in[0], in[1], err);
    case 1: return nnl_ag_mm(in[0], in[1], err);
    case 2: return nnl_ag_dot(in[0], in[1], err);
    default: return nnl_ag_outer(in[0], in[1], err);
    }
}

static void test_products(void **s)
{
    (void)s;
    struct {
        int op, na, nb;
        size_t a[3], b[3];
    } cases[] = {
        {0, 2, 2, {3, 4}, {4, 5}},        /* 2-D */
        {0, 3, 3, {2, 3, 4}, {2, 4, 5}},  /* batched */
        {0, 3, 3, {1, 3, 4}, {2, 4, 5}},  /* a batch of 1 broadcasts */
        {0, 3, 3, {2, 3, 4}, {1, 4, 5}},
        {0, 3, 2, {2, 3, 4}, {4, 5}},     /* 3-D times 2-D */
        {0, 2, 3, {3, 4}, {2, 4, 5}},     /* 2-D times 3-D */
        {0, 1, 2, {4}, {4, 5}},           /* 1-D cases */
        {0, 2, 1, {3, 4}, {4}},
        {0, 1, 3, {4}, {2, 4, 5}},
        {0, 3, 1, {2, 3, 4}, {4}},
        {0, 1, 1, {4}, {4}},
        {1, 2, 2, {3, 4}, {4, 2}},        /* mm */
        {2, 1, 1, {5}, {5}},              /* dot */
        {3, 1, 1, {3}, {4}},              /* outer */
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        nnl_tensor *in[2] = {randt(cases[c].na, cases[c].a, 200u + (unsigned)c),
                             randt(cases[c].nb, cases[c].b, 300u + (unsigned)c)};
        pctx p = {cases[c].op};
        if (!agcheck(f_product, &p, in, 2, 1e-2, 1e-2))
            fail_msg("product case %zu", c);
        nnl_tensor_free(in[0]);
        nnl_tensor_free(in[1]);
    }
}

/* Inputs that need no gradient, or recording off: no node. */
static void test_constants_record_nothing(void **s)
{
    (void)s;
    size_t sh[2] = {2, 3};
    nnl_tensor *x = randt(2, sh, 7);
    nnl_error err;
    nnl_tensor *y = nnl_ag_softmax(x, 0, &err);
    assert_null(y->node);
    nnl_tensor_free(y);
    assert_int_equal(nnl_ag_requires_grad(x, 1, &err), NNL_OK);
    nnl_ag_set_enabled(0);
    y = nnl_ag_sum(x, 1, 0, &err);
    assert_null(y->node);
    nnl_tensor_free(y);
    nnl_ag_set_enabled(1);
    y = nnl_ag_mean(x, NNL_DIM_ALL, 0, &err);
    assert_string_equal(nnl_ag_op_name(y), "mean");
    assert_int_equal(y->ndim, 1);
    assert_int_equal(y->numel, 1);
    nnl_tensor_free(y);
    /* errors of the math come through, nothing recorded */
    assert_null(nnl_ag_sum(x, 2, 0, &err));
    assert_string_equal(err.msg, "sum: dimension 3 out of range for shape [2x3]");
    assert_null(nnl_ag_matmul(x, x, &err));
    assert_string_equal(err.msg, "matmul: shapes [2x3] and [2x3] do not match (3 != 2)");
    nnl_tensor_free(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_reductions_every_dim, setup, teardown),
        cmocka_unit_test_setup_teardown(test_prod_with_zeros, setup, teardown),
        cmocka_unit_test_setup_teardown(test_max_min_first_extreme, setup, teardown),
        cmocka_unit_test_setup_teardown(test_products, setup, teardown),
        cmocka_unit_test_setup_teardown(test_constants_record_nothing, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
