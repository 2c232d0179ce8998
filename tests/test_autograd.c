/* Tests of the autograd engine (src/tensor/autograd.c): leaves and their
 * gradients, accumulation, graphs with shared inputs, freeing after a
 * backward, refusals that change nothing (a changed saved tensor, a failing
 * op, a non-scalar root), deep graphs, and nnl_ag_sum_to. The ops here are
 * test-local (a product, a sum), so the engine is tested on its own. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "core/alloc.h"
#include "tensor/autograd.h"
#include "tensor/tensor.h"
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

/* ---- test ops ---- */

static nnl_status mul_bwd(nnl_agnode *n, const nnl_tensor *g, nnl_tensor **gin, nnl_error *err)
{
    if (n->next[0] && !(gin[0] = nnl_tensor_binop(NNL_MUL, g, nnl_ag_saved(n, 1), err)))
        return err->code;
    if (n->next[1] && !(gin[1] = nnl_tensor_binop(NNL_MUL, g, nnl_ag_saved(n, 0), err)))
        return err->code;
    return NNL_OK;
}
static const nnl_agop op_mul = {"mul", mul_bwd, NULL};

static nnl_tensor *t_mul(const nnl_tensor *a, const nnl_tensor *b, nnl_error *err)
{
    nnl_tensor *y = nnl_tensor_binop(NNL_MUL, a, b, err);
    nnl_agnode *n;
    const nnl_tensor *in[2] = {a, b};
    if (!y || nnl_ag_record(&op_mul, y, in, 2, &n, err) != NNL_OK)
        goto fail;
    if (n && (nnl_ag_save(n, 0, a, err) != NNL_OK || nnl_ag_save(n, 1, b, err) != NNL_OK))
        goto fail;
    return y;
fail:
    nnl_tensor_free(y);
    return NULL;
}

static nnl_status sum_bwd(nnl_agnode *n, const nnl_tensor *g, nnl_tensor **gin, nnl_error *err)
{
    gin[0] = nnl_tensor_new(n->in_ndim[0], n->in_shape[0], err);
    if (!gin[0])
        return err->code;
    nnl_tensor_fill(gin[0], g->data[0]);
    return NNL_OK;
}
static const nnl_agop op_sum = {"sum", sum_bwd, NULL};

static nnl_tensor *t_sum(const nnl_tensor *a, nnl_error *err)
{
    nnl_tensor *y = nnl_tensor_new1(1, err);
    nnl_agnode *n;
    if (!y)
        return NULL;
    y->data[0] = (float)nnl_tensor_sum_all(a);
    if (nnl_ag_record(&op_sum, y, &a, 1, &n, err) != NNL_OK) {
        nnl_tensor_free(y);
        return NULL;
    }
    return y;
}

static nnl_status fail_bwd(nnl_agnode *n, const nnl_tensor *g, nnl_tensor **gin, nnl_error *err)
{
    (void)n; (void)g; (void)gin;
    return nnl_fail(err, NNL_ERR_ARG, "fail: refused on purpose");
}
static const nnl_agop op_fail = {"fail", fail_bwd, NULL};

static nnl_status badshape_bwd(nnl_agnode *n, const nnl_tensor *g, nnl_tensor **gin,
                               nnl_error *err)
{
    (void)n; (void)g;
    gin[0] = nnl_tensor_new1(7, err);
    return gin[0] ? NNL_OK : err->code;
}
static const nnl_agop op_badshape = {"badshape", badshape_bwd, NULL};

/* An identity op of kind op (a copy of a recorded with op). */
static nnl_tensor *t_ident(const nnl_agop *op, const nnl_tensor *a, nnl_error *err)
{
    nnl_tensor *y = nnl_tensor_clone(a, err);
    nnl_agnode *n;
    if (!y || nnl_ag_record(op, y, &a, 1, &n, err) != NNL_OK) {
        nnl_tensor_free(y);
        return NULL;
    }
    return y;
}

static nnl_tensor *vec(size_t n, const float *v)
{
    nnl_error err;
    nnl_tensor *t = nnl_tensor_new1(n, &err);
    assert_non_null(t);
    memcpy(t->data, v, n * sizeof *v);
    return t;
}

/* ---- tests ---- */

static void test_leaf_and_product(void **state)
{
    (void)state;
    nnl_error err;
    nnl_tensor *a = vec(3, (const float[]){1, 2, 3}), *b = vec(3, (const float[]){4, 5, -6});
    assert_null(nnl_ag_op_name(a));
    assert_int_equal(nnl_ag_requires_grad(a, 1, &err), NNL_OK);
    assert_true(nnl_ag_is_leaf(a));
    assert_string_equal(nnl_ag_op_name(a), "leaf");
    assert_null(nnl_ag_grad(a));
    nnl_tensor *p = t_mul(a, b, &err), *s = t_sum(p, &err);
    assert_string_equal(nnl_ag_op_name(p), "mul");
    assert_string_equal(nnl_ag_op_name(s), "sum");
    assert_int_equal(nnl_ag_backward(s, NULL, 0, &err), NNL_OK);
    const nnl_tensor *g = nnl_ag_grad(a);
    assert_non_null(g);
    assert_true(g->data[0] == 4 && g->data[1] == 5 && g->data[2] == -6);
    assert_null(nnl_ag_grad(b)); /* b needs no gradient */
    /* A second graph adds to the gradient. */
    nnl_tensor *p2 = t_mul(a, b, &err), *s2 = t_sum(p2, &err);
    assert_int_equal(nnl_ag_backward(s2, NULL, 0, &err), NNL_OK);
    assert_true(nnl_ag_grad(a)->data[2] == -12);
    nnl_tensor_free(s2);
    nnl_tensor_free(p2);
    nnl_tensor_free(s);
    nnl_tensor_free(p);
    nnl_tensor_free(a);
    nnl_tensor_free(b);
}

static void test_shared_input_and_diamond(void **state)
{
    (void)state;
    nnl_error err;
    nnl_tensor *a = vec(2, (const float[]){3, -2});
    assert_int_equal(nnl_ag_requires_grad(a, 1, &err), NNL_OK);
    /* y = sum((a*a) * (a*a)) = sum(a^4): dy/da = 4 a^3 */
    nnl_tensor *sq = t_mul(a, a, &err), *q = t_mul(sq, sq, &err), *y = t_sum(q, &err);
    assert_int_equal(nnl_ag_backward(y, NULL, 0, &err), NNL_OK);
    assert_float_equal(nnl_ag_grad(a)->data[0], 108.0f, 1e-4);
    assert_float_equal(nnl_ag_grad(a)->data[1], -32.0f, 1e-4);
    nnl_tensor_free(y);
    nnl_tensor_free(q);
    nnl_tensor_free(sq);
    nnl_tensor_free(a);
}

static void test_freed_graph_and_retain(void **state)
{
    (void)state;
    nnl_error err;
    nnl_tensor *a = vec(2, (const float[]){1, 2}), *b = vec(2, (const float[]){3, 4});
    assert_int_equal(nnl_ag_requires_grad(a, 1, &err), NNL_OK);
    nnl_tensor *p = t_mul(a, b, &err), *s = t_sum(p, &err);
    assert_int_equal(nnl_ag_backward(s, NULL, 1, &err), NNL_OK);
    assert_int_equal(nnl_ag_backward(s, NULL, 0, &err), NNL_OK); /* retained once */
    assert_true(nnl_ag_grad(a)->data[1] == 8);
    assert_int_equal(nnl_ag_backward(s, NULL, 0, &err), NNL_ERR_ARG);
    assert_non_null(strstr(err.msg, "freed by an earlier backward"));
    assert_non_null(strstr(err.msg, "'sum'"));
    assert_true(nnl_ag_grad(a)->data[1] == 8); /* unchanged by the refusal */
    /* The freed nodes hold no saved tensor any more. */
    assert_null(p->node->saved[0]);
    nnl_tensor_free(s);
    nnl_tensor_free(p);
    nnl_tensor_free(a);
    nnl_tensor_free(b);
}

static void test_changed_saved_tensor_refused(void **state)
{
    (void)state;
    nnl_error err;
    nnl_tensor *a = vec(2, (const float[]){1, 2}), *b = vec(2, (const float[]){3, 4});
    assert_int_equal(nnl_ag_requires_grad(a, 1, &err), NNL_OK);
    nnl_tensor *p = t_mul(a, b, &err), *s = t_sum(p, &err);
    assert_int_equal(nnl_ag_backward(s, NULL, 1, &err), NNL_OK);
    b->data[0] = 100; /* an in-place change that says so */
    nnl_tensor_bump_version(b);
    assert_int_equal(nnl_ag_backward(s, NULL, 0, &err), NNL_ERR_ARG);
    assert_non_null(strstr(err.msg, "'mul' needs was changed in place"));
    assert_true(nnl_ag_grad(a)->data[0] == 3); /* the first backward's only */
    nnl_tensor_free(s);
    nnl_tensor_free(p);
    nnl_tensor_free(a);
    nnl_tensor_free(b);
}

static void test_failing_backward_changes_nothing(void **state)
{
    (void)state;
    nnl_error err;
    nnl_tensor *a = vec(2, (const float[]){1, 2});
    assert_int_equal(nnl_ag_requires_grad(a, 1, &err), NNL_OK);
    nnl_tensor *g0 = vec(2, (const float[]){5, 6});
    assert_int_equal(nnl_ag_set_grad(a, g0, &err), NNL_OK);
    /* A graph whose op refuses its backward, then one that gives a gradient
     * of the wrong shape: a's gradient stays as it was set. */
    nnl_tensor *f = t_ident(&op_fail, a, &err);
    assert_non_null(f);
    nnl_tensor *sf = t_sum(f, &err);
    assert_int_equal(nnl_ag_backward(sf, NULL, 1, &err), NNL_ERR_ARG);
    assert_string_equal(err.msg, "fail: refused on purpose");
    assert_true(nnl_ag_grad(a)->data[0] == 5 && nnl_ag_grad(a)->data[1] == 6);
    nnl_tensor *bad = t_ident(&op_badshape, a, &err), *sb = t_sum(bad, &err);
    assert_int_equal(nnl_ag_backward(sb, NULL, 0, &err), NNL_ERR_ARG);
    assert_non_null(strstr(err.msg, "'badshape' gave a gradient of shape [7] for its input 1 "
                                    "of shape [2]"));
    assert_true(nnl_ag_grad(a)->data[0] == 5);
    nnl_tensor_free(sb);
    nnl_tensor_free(bad);
    nnl_tensor_free(sf);
    nnl_tensor_free(f);
    nnl_tensor_free(g0);
    nnl_tensor_free(a);
}

static void test_refusals(void **state)
{
    (void)state;
    nnl_error err;
    nnl_tensor *a = vec(3, (const float[]){1, 2, 3});
    /* No graph. */
    assert_int_equal(nnl_ag_backward(a, NULL, 0, &err), NNL_ERR_ARG);
    assert_non_null(strstr(err.msg, "does not require grad"));
    assert_int_equal(nnl_ag_requires_grad(a, 1, &err), NNL_OK);
    nnl_tensor *p = t_mul(a, a, &err);
    /* A non-scalar root needs its gradient, of its shape. */
    assert_int_equal(nnl_ag_backward(p, NULL, 0, &err), NNL_ERR_ARG);
    assert_non_null(strstr(err.msg, "one-element tensor; this one has shape [3]"));
    nnl_tensor *g = vec(2, (const float[]){1, 1});
    assert_int_equal(nnl_ag_backward(p, g, 0, &err), NNL_ERR_ARG);
    assert_non_null(strstr(err.msg, "gradient has shape [2], the tensor [3]"));
    /* A result cannot be made a leaf. */
    assert_int_equal(nnl_ag_requires_grad(p, 1, &err), NNL_ERR_ARG);
    assert_non_null(strstr(err.msg, "made by 'mul'"));
    /* Recording off: nothing recorded. */
    int was = nnl_ag_set_enabled(0);
    assert_int_equal(was, 1);
    nnl_tensor *q = t_mul(a, a, &err);
    assert_null(q->node);
    assert_false(nnl_ag_needs(a));
    nnl_ag_set_enabled(1);
    assert_true(nnl_ag_needs(a));
    /* Turning a leaf off drops its node and gradient. */
    assert_int_equal(nnl_ag_requires_grad(a, 0, &err), NNL_OK);
    assert_null(a->node);
    nnl_tensor_free(q);
    nnl_tensor_free(g);
    nnl_tensor_free(p);
    nnl_tensor_free(a);
}

/* A chain of 200000 recorded ops: backward and freeing use no deep
 * recursion (this would overflow the stack otherwise). */
static void test_deep_chain(void **state)
{
    (void)state;
    nnl_error err;
    nnl_tensor *a = vec(1, (const float[]){1});
    assert_int_equal(nnl_ag_requires_grad(a, 1, &err), NNL_OK);
    nnl_tensor *x = nnl_tensor_view(a, &err);
    nnl_agnode_retain(a->node);
    x->node = a->node;
    for (int i = 0; i < 200000; i++) {
        nnl_tensor *y = t_ident(&op_sum, x, &err);
        assert_non_null(y);
        nnl_tensor_free(x);
        x = y;
    }
    assert_int_equal(nnl_ag_backward(x, NULL, 1, &err), NNL_OK);
    assert_true(nnl_ag_grad(a)->data[0] == 1);
    nnl_tensor_free(x); /* the whole retained chain goes */
    nnl_tensor_free(a);
}

static void test_sum_to(void **state)
{
    (void)state;
    nnl_error err;
    size_t s234[3] = {2, 3, 4};
    nnl_tensor *g = nnl_tensor_new(3, s234, &err);
    for (size_t i = 0; i < 24; i++)
        g->data[i] = (float)(i + 1);
    struct {
        int nd;
        size_t shape[3];
    } cases[] = {{1, {4}}, {2, {3, 1}}, {3, {2, 1, 4}}, {1, {1}}, {3, {1, 3, 1}},
                 {3, {2, 3, 1}}, {3, {2, 3, 4}}, {2, {3, 4}}};
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        nnl_tensor *o = nnl_ag_sum_to(g, cases[c].nd, cases[c].shape, &err);
        assert_non_null(o);
        /* independent: every g element adds to its broadcast position */
        size_t pad[3];
        for (int d = 0; d < 3; d++) {
            int s = d - (3 - cases[c].nd);
            pad[d] = s < 0 ? 1 : cases[c].shape[s];
        }
        double want[24] = {0};
        for (size_t i = 0; i < 2; i++)
            for (size_t j = 0; j < 3; j++)
                for (size_t k = 0; k < 4; k++) {
                    size_t oi = pad[0] == 1 ? 0 : i, oj = pad[1] == 1 ? 0 : j,
                           ok = pad[2] == 1 ? 0 : k;
                    want[(oi * pad[1] + oj) * pad[2] + ok] += g->data[(i * 3 + j) * 4 + k];
                }
        for (size_t e = 0; e < o->numel; e++)
            assert_float_equal(o->data[e], want[e], 1e-4);
        nnl_tensor_free(o);
    }
    assert_null(nnl_ag_sum_to(g, 1, (const size_t[]){3}, &err));
    assert_non_null(strstr(err.msg, "sum_to: shape [3] does not broadcast to [2x3x4]"));
    nnl_tensor_free(g);
}

static nnl_tensor *f_cube_sum(nnl_tensor *const *in, void *ctx, nnl_error *err)
{
    (void)ctx;
    nnl_tensor *sq = t_mul(in[0], in[0], err);
    nnl_tensor *c = sq ? t_mul(sq, in[1], err) : NULL;
    nnl_tensor_free(sq);
    return c;
}

/* agcheck itself: passes on a right gradient, fails on a wrong one. */
static nnl_status wrong_bwd(nnl_agnode *n, const nnl_tensor *g, nnl_tensor **gin, nnl_error *err)
{
    (void)n;
    gin[0] = nnl_tensor_clone(g, err); /* claims d(2x)/dx = 1 */
    return gin[0] ? NNL_OK : err->code;
}
static const nnl_agop op_wrong = {"wrong", wrong_bwd, NULL};
static nnl_tensor *f_wrong(nnl_tensor *const *in, void *ctx, nnl_error *err)
{
    (void)ctx;
    nnl_tensor *y = nnl_tensor_binop_scalar(NNL_MUL, in[0], 2.0f, 0, err);
    nnl_agnode *n;
    const nnl_tensor *x = in[0];
    if (y && nnl_ag_record(&op_wrong, y, &x, 1, &n, err) != NNL_OK) {
        nnl_tensor_free(y);
        return NULL;
    }
    return y;
}

static void test_agcheck(void **state)
{
    (void)state;
    nnl_tensor *in[2] = {vec(3, (const float[]){0.5f, -1.5f, 2}),
                         vec(3, (const float[]){1, 2, -0.5f})};
    assert_true(agcheck(f_cube_sum, NULL, in, 2, 1e-2, 1e-2));
    nnl_tensor *w[1] = {vec(2, (const float[]){1, 2})};
    assert_false(agcheck(f_wrong, NULL, w, 1, 1e-2, 1e-2));
    nnl_tensor_free(w[0]);
    nnl_tensor_free(in[0]);
    nnl_tensor_free(in[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_leaf_and_product, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shared_input_and_diamond, setup, teardown),
        cmocka_unit_test_setup_teardown(test_freed_graph_and_retain, setup, teardown),
        cmocka_unit_test_setup_teardown(test_changed_saved_tensor_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failing_backward_changes_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deep_chain, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sum_to, setup, teardown),
        cmocka_unit_test_setup_teardown(test_agcheck, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
