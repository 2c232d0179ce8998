/* Finite-difference checks (agcheck.h) of the autograd of every shape
 * operation (src/tensor/ag_shape.c): permute, transpose, t, narrow on each
 * dimension, rows, select on each dimension (and of a 1-D tensor), index
 * with repeated indices, slices with ranges and indices, the reshapes,
 * cat and stack of a few and of more inputs than one node holds, split and
 * chunk pieces; and that nothing is recorded without a leaf. agcheck
 * weighs each output element by a different fixed value, so a gradient
 * put in the wrong place cannot pass. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "core/alloc.h"
#include "tensor/ag_shape.h"
#include "tensor/autograd.h"
#include "tensor/tensor.h"
#include "tensor/tensor_shape.h"
#include "agcheck.h"

static long baseline;

static int setup(void **state)
{
    (void)state;
    baseline = nnl_alloc_live();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    nnl_ag_set_enabled(1);
    assert_int_equal(nnl_alloc_live(), baseline);
    return 0;
}

static nnl_tensor *input(int nd, const size_t *shape, unsigned seed)
{
    nnl_tensor *t = nnl_tensor_new(nd, shape, NULL);
    assert_non_null(t);
    for (size_t i = 0; i < t->numel; i++)
        t->data[i] = (float)sin(0.7 * (double)(i + 1) + seed) * 1.5f;
    return t;
}

static void free_all(nnl_tensor **in, int n)
{
    for (int i = 0; i < n; i++)
        nnl_tensor_free(in[i]);
}

/* Which op f runs, and its arguments. */
typedef struct case_ {
    int op;
    int dim, d2;
    size_t a, b;
    int perm[NNL_MAX_DIMS];
    size_t idx[8];
    size_t nidx;
    nnl_slice s;
    int n; /* inputs of cat/stack */
    int piece;
} case_;

enum { PERMUTE, TRANSPOSE, T, NARROW, ROWS, SELECT, INDEX, SLICE, RESHAPE, SQUEEZE, UNSQUEEZE,
       FLATTEN, CAT, STACK, SPLIT, CHUNK };

static nnl_tensor *f(nnl_tensor *const *in, void *ctx, nnl_error *err)
{
    const case_ *c = ctx;
    const nnl_tensor *x = in[0];
    long shape[2] = {-1, 2};
    nnl_tensor **ps, *y = NULL;
    size_t n;
    switch (c->op) {
    case PERMUTE: return nnl_ag_permute(x, c->perm, err);
    case TRANSPOSE: return nnl_ag_transpose(x, c->dim, c->d2, err);
    case T: return nnl_ag_t(x, err);
    case NARROW: return nnl_ag_narrow(x, c->dim, c->a, c->b, err);
    case ROWS: return nnl_ag_rows(x, c->a, c->b, err);
    case SELECT: return nnl_ag_select(x, c->dim, c->a, err);
    case INDEX: return nnl_ag_index(x, c->dim, c->idx, c->nidx, err);
    case SLICE: return nnl_ag_slice(x, &c->s, err);
    case RESHAPE: return nnl_ag_reshape(x, 2, shape, err);
    case SQUEEZE: return nnl_ag_squeeze(x, c->dim, err);
    case UNSQUEEZE: return nnl_ag_unsqueeze(x, c->dim, err);
    case FLATTEN: return nnl_ag_flatten(x, err);
    case CAT: return nnl_ag_cat((const nnl_tensor *const *)in, (size_t)c->n, c->dim, err);
    case STACK: return nnl_ag_stack((const nnl_tensor *const *)in, (size_t)c->n, c->dim, err);
    case SPLIT:
    case CHUNK:
        ps = c->op == SPLIT ? nnl_ag_split(x, c->a, c->dim, &n, err)
                            : nnl_ag_chunk(x, c->a, c->dim, &n, err);
        if (!ps)
            return NULL;
        /* the chosen piece; the others are freed (their nodes with them) */
        y = ps[c->piece];
        for (size_t i = 0; i < n; i++)
            if ((int)i != c->piece)
                nnl_tensor_free(ps[i]);
        nnl_free(ps);
        return y;
    }
    return NULL;
}

static void check(case_ *c, nnl_tensor **in, int nin)
{
    assert_true(agcheck(f, c, in, nin, 1e-2, 2e-3));
    free_all(in, nin);
}

static void test_permute_transpose(void **state)
{
    (void)state;
    size_t s3[3] = {2, 3, 4}, s2[2] = {3, 5}, s1[1] = {4};
    case_ c = {.op = PERMUTE, .perm = {2, 0, 1}};
    nnl_tensor *in[1] = {input(3, s3, 1)};
    check(&c, in, 1);
    c = (case_){.op = TRANSPOSE, .dim = 0, .d2 = 2};
    in[0] = input(3, s3, 2);
    check(&c, in, 1);
    c = (case_){.op = T};
    in[0] = input(2, s2, 3);
    check(&c, in, 1);
    in[0] = input(1, s1, 4);
    check(&c, in, 1);
}

static void test_narrow_rows_select(void **state)
{
    (void)state;
    size_t s3[3] = {4, 3, 5}, s1[1] = {6};
    for (int dim = 0; dim < 3; dim++) {
        case_ c = {.op = NARROW, .dim = dim, .a = 1, .b = 2};
        nnl_tensor *in[1] = {input(3, s3, (unsigned)dim)};
        check(&c, in, 1);
        c = (case_){.op = SELECT, .dim = dim, .a = 2};
        in[0] = input(3, s3, (unsigned)dim + 7);
        check(&c, in, 1);
    }
    case_ c = {.op = ROWS, .a = 1, .b = 3};
    nnl_tensor *in[1] = {input(3, s3, 9)};
    check(&c, in, 1);
    c = (case_){.op = SELECT, .dim = 0, .a = 4};
    in[0] = input(1, s1, 10);
    check(&c, in, 1);
}

static void test_index_repeated(void **state)
{
    (void)state;
    size_t s3[3] = {3, 4, 2};
    for (int dim = 0; dim < 3; dim++) {
        case_ c = {.op = INDEX, .dim = dim, .idx = {1, 0, 1, 1, 0}, .nidx = 5};
        nnl_tensor *in[1] = {input(3, s3, (unsigned)dim)};
        check(&c, in, 1);
    }
    /* the repeated index's gradient is the sum of its uses */
    nnl_tensor *x = input(3, s3, 5);
    assert_int_equal(nnl_ag_requires_grad(x, 1, NULL), NNL_OK);
    size_t idx[3] = {2, 2, 2};
    nnl_tensor *y = nnl_ag_index(x, 1, idx, 3, NULL);
    assert_int_equal(nnl_ag_backward(y, y, 0, NULL), NNL_OK);
    const nnl_tensor *g = nnl_ag_grad(x);
    for (size_t o = 0; o < 3; o++)
        for (size_t j = 0; j < 4; j++)
            for (size_t k = 0; k < 2; k++) {
                float want = 0;
                if (j == 2)
                    for (size_t r = 0; r < 3; r++)
                        want += y->data[(o * 3 + r) * 2 + k];
                assert_true(fabsf(g->data[(o * 4 + j) * 2 + k] - want) < 1e-6f);
            }
    nnl_tensor_free(y);
    nnl_tensor_free(x);
}

static void test_slice(void **state)
{
    (void)state;
    size_t s3[3] = {4, 5, 3};
    case_ c = {.op = SLICE, .s = {3, {1, 2, 0}, {2, 0, 2}, {0, 1, 0}}};
    nnl_tensor *in[1] = {input(3, s3, 1)};
    check(&c, in, 1);
    c = (case_){.op = SLICE, .s = {1, {1}, {3}, {0}}}; /* a view */
    in[0] = input(3, s3, 2);
    check(&c, in, 1);
    c = (case_){.op = SLICE, .s = {3, {3, 4, 2}, {0, 0, 0}, {1, 1, 1}}}; /* one element */
    in[0] = input(3, s3, 3);
    check(&c, in, 1);
}

static void test_reshapes(void **state)
{
    (void)state;
    size_t s[4] = {2, 1, 3, 1};
    int ops[4] = {RESHAPE, SQUEEZE, UNSQUEEZE, FLATTEN};
    for (int i = 0; i < 4; i++) {
        case_ c = {.op = ops[i], .dim = ops[i] == SQUEEZE ? -1 : 2};
        nnl_tensor *in[1] = {input(4, s, (unsigned)i)};
        check(&c, in, 1);
    }
    case_ c = {.op = SQUEEZE, .dim = 1};
    nnl_tensor *in[1] = {input(4, s, 9)};
    check(&c, in, 1);
}

static void test_cat_stack(void **state)
{
    (void)state;
    for (int dim = 0; dim < 2; dim++) {
        /* 3 inputs, and 6 (more than NNL_AG_MAXIN: one nnl_ag_record_n node) */
        int counts[2] = {3, 6};
        for (int k = 0; k < 2; k++) {
            nnl_tensor *in[6];
            for (int i = 0; i < counts[k]; i++) {
                size_t s[2] = {dim == 0 ? (size_t)(i % 3 + 1) : 2, dim == 1 ? (size_t)(i % 2 + 1) : 3};
                in[i] = input(2, s, (unsigned)(i + 3 * k));
            }
            case_ c = {.op = CAT, .dim = dim, .n = counts[k]};
            check(&c, in, counts[k]);
            for (int i = 0; i < counts[k]; i++) {
                size_t s[2] = {2, 3};
                in[i] = input(2, s, (unsigned)(i + 11));
            }
            c = (case_){.op = STACK, .dim = dim * 2, .n = counts[k]};
            check(&c, in, counts[k]);
        }
    }
    size_t s1[1] = {3};
    nnl_tensor *in[2] = {input(1, s1, 1), input(1, s1, 2)};
    case_ c = {.op = STACK, .dim = 1, .n = 2};
    check(&c, in, 2);
}

static void test_split_chunk(void **state)
{
    (void)state;
    size_t s[2] = {5, 7};
    for (int dim = 0; dim < 2; dim++)
        for (int piece = 0; piece < 2; piece++) {
            case_ c = {.op = SPLIT, .dim = dim, .a = 3, .piece = piece};
            nnl_tensor *in[1] = {input(2, s, (unsigned)(dim * 2 + piece))};
            check(&c, in, 1);
            c = (case_){.op = CHUNK, .dim = dim, .a = 2, .piece = piece};
            in[0] = input(2, s, (unsigned)(dim * 2 + piece + 5));
            check(&c, in, 1);
        }
}

static void test_names_and_constants(void **state)
{
    (void)state;
    size_t s[2] = {3, 4};
    nnl_tensor *x = input(2, s, 1);
    /* no leaf: nothing recorded */
    nnl_tensor *y = nnl_ag_transpose(x, 0, 1, NULL);
    assert_null(y->node);
    nnl_tensor_free(y);
    assert_int_equal(nnl_ag_requires_grad(x, 1, NULL), NNL_OK);
    struct { nnl_tensor *t; const char *name; } rs[] = {
        {nnl_ag_t(x, NULL), "transpose"},
        {nnl_ag_narrow(x, 1, 0, 2, NULL), "narrow"},
        {nnl_ag_rows(x, 0, 2, NULL), "rows"},
        {nnl_ag_select(x, 1, 0, NULL), "select"},
        {nnl_ag_flatten(x, NULL), "flatten"},
    };
    for (size_t i = 0; i < sizeof rs / sizeof rs[0]; i++) {
        assert_string_equal(nnl_ag_op_name(rs[i].t), rs[i].name);
        nnl_tensor_free(rs[i].t);
    }
    /* rows is still a view when recorded */
    nnl_tensor *r = nnl_ag_rows(x, 1, 1, NULL);
    assert_ptr_equal(r->data, x->data + 4);
    nnl_tensor_free(r);
    /* a failing op records nothing and leaves no node behind */
    nnl_error err;
    assert_null(nnl_ag_narrow(x, 1, 3, 2, &err));
    assert_string_equal(err.msg, "narrow: start 4 + length 2 out of range for dimension 2 of [3x4]");
    nnl_tensor_free(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_permute_transpose, setup, teardown),
        cmocka_unit_test_setup_teardown(test_narrow_rows_select, setup, teardown),
        cmocka_unit_test_setup_teardown(test_index_repeated, setup, teardown),
        cmocka_unit_test_setup_teardown(test_slice, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reshapes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cat_stack, setup, teardown),
        cmocka_unit_test_setup_teardown(test_split_chunk, setup, teardown),
        cmocka_unit_test_setup_teardown(test_names_and_constants, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
