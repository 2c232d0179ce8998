/* Gradients of the element-wise ops (tensor/ag_ew.h): every differentiable
 * op against central differences (tests/agcheck.h), binary ops and where
 * on broadcasting shapes ([3x1] with [4], [2x1x3] with [5x1], a one-element
 * tensor, a row), scalar forms on either side; hand-computed cases (ties
 * of maximum, pow's exponent at a zero base); constants that are not
 * recorded; and the refusals of in-place changes while recording. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/alloc.h"
#include "tensor/ag_ew.h"
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

static uint32_t lcg = 2024u;
static float frand(float lo, float hi)
{
    lcg = lcg * 1664525u + 1013904223u;
    return lo + (hi - lo) * (float)(lcg >> 8) / 16777216.0f;
}

/* Values in [lo, hi], at least `gap` away from 0 when gap > 0 (kinks of
 * abs and relu, poles of division). */
static nnl_tensor *make(int nd, const size_t *shape, float lo, float hi, float gap)
{
    nnl_tensor *t = nnl_tensor_new(nd, shape, NULL);
    assert_non_null(t);
    for (size_t i = 0; i < t->numel; i++) {
        float v;
        do
            v = frand(lo, hi);
        while (gap > 0 && fabsf(v) < gap);
        t->data[i] = v;
    }
    return t;
}

/* ---- the functions agcheck differentiates ----------------------------- */

typedef struct ctx {
    int kind; /* 0 binary, 1 scalar right, 2 scalar left, 3 unary, 4 act, 5 clamp,
               * 6 where, 7 masked_fill, 8 composite, 9 binary of in[0] with itself */
    int op;
    float s, s2;
    const nnl_tensor *cond;
} ctx;

static nnl_tensor *f_op(nnl_tensor *const *in, void *vc, nnl_error *err)
{
    const ctx *c = vc;
    switch (c->kind) {
    case 0: return nnl_ag_binop((nnl_binop)c->op, in[0], in[1], err);
    case 1: return nnl_ag_binop_scalar((nnl_binop)c->op, in[0], c->s, 0, err);
    case 2: return nnl_ag_binop_scalar((nnl_binop)c->op, in[0], c->s, 1, err);
    case 3: return nnl_ag_unop((nnl_unop)c->op, in[0], err);
    case 4: return nnl_ag_act((nnl_kact)c->op, c->s, in[0], err);
    case 5: return nnl_ag_clamp(in[0], c->s, c->s2, err);
    case 6: return nnl_ag_where(c->cond, in[0], in[1], err);
    case 7: return nnl_ag_masked_fill(in[0], c->cond, c->s, err);
    case 9: return nnl_ag_binop((nnl_binop)c->op, in[0], in[0], err);
    default: { /* sin(a * b) / (1 + exp(-a)): ops chained with a broadcast */
        nnl_tensor *m = nnl_ag_binop(NNL_MUL, in[0], in[1], err);
        nnl_tensor *s = m ? nnl_ag_unop(NNL_SIN, m, err) : NULL;
        nnl_tensor *e = s ? nnl_ag_act(NNL_KACT_SIGMOID, 0, in[0], err) : NULL;
        nnl_tensor *y = e ? nnl_ag_binop(NNL_MUL, s, e, err) : NULL;
        nnl_tensor_free(m);
        nnl_tensor_free(s);
        nnl_tensor_free(e);
        return y;
    }
    }
}

static const struct { int nda, ndb; size_t a[3], b[3]; } shapes[] = {
    {2, 2, {3, 4}, {3, 4}},   /* equal */
    {2, 1, {3, 1}, {4}},      /* [3x1] with [4] */
    {3, 2, {2, 1, 3}, {5, 1}}, /* [2x1x3] with [5x1] */
    {2, 1, {2, 3}, {1}},      /* one element */
    {1, 2, {3}, {2, 3}},      /* a row */
};

/* The domain of binary op: the bases of pow positive, divisors and the
 * operands of maximum/minimum away from zero and from each other. */
static void binary_inputs(int op, size_t s, nnl_tensor **a, nnl_tensor **b)
{
    int nda = shapes[s].nda, ndb = shapes[s].ndb;
    switch (op) {
    case NNL_POW:
        *a = make(nda, shapes[s].a, 0.5f, 2.0f, 0);
        *b = make(ndb, shapes[s].b, -2.0f, 2.0f, 0);
        break;
    case NNL_DIV:
        *a = make(nda, shapes[s].a, -2, 2, 0);
        *b = make(ndb, shapes[s].b, -2, 2, 0.5f);
        break;
    case NNL_MAXIMUM:
    case NNL_MINIMUM: /* a in +-[1, 2], b in [-0.5, 0.5]: never within eps */
        *a = make(nda, shapes[s].a, -2, 2, 1.0f);
        *b = make(ndb, shapes[s].b, -0.5f, 0.5f, 0);
        break;
    default:
        *a = make(nda, shapes[s].a, -2, 2, 0);
        *b = make(ndb, shapes[s].b, -2, 2, 0);
        break;
    }
}

static void test_binary_ops_on_broadcast_shapes(void **state)
{
    (void)state;
    const int ops[] = {NNL_ADD, NNL_SUB, NNL_MUL, NNL_DIV, NNL_POW, NNL_MAXIMUM, NNL_MINIMUM};
    for (size_t o = 0; o < sizeof ops / sizeof ops[0]; o++)
        for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
            nnl_tensor *in[2];
            binary_inputs(ops[o], s, &in[0], &in[1]);
            ctx c = {0, ops[o], 0, 0, NULL};
            if (!agcheck(f_op, &c, in, 2, 1e-2, 1e-2))
                fail_msg("%s on shapes %zu", nnl_binop_name((nnl_binop)ops[o]), s);
            /* both operands the same tensor: the gradients add up */
            nnl_tensor *same[1] = {in[0]};
            ctx c2 = {9, ops[o], 0, 0, NULL};
            if (!agcheck(f_op, &c2, same, 1, 1e-2, 1e-2))
                fail_msg("%s of a tensor with itself", nnl_binop_name((nnl_binop)ops[o]));
            nnl_tensor_free(in[0]);
            nnl_tensor_free(in[1]);
        }
}

static void test_scalar_forms_both_sides(void **state)
{
    (void)state;
    const int ops[] = {NNL_ADD, NNL_SUB, NNL_MUL, NNL_DIV, NNL_POW, NNL_MAXIMUM, NNL_MINIMUM};
    const float ss[] = {0.5f, 2.0f, -1.5f, 3.0f};
    size_t sh[2] = {2, 5};
    for (size_t o = 0; o < sizeof ops / sizeof ops[0]; o++)
        for (int side = 1; side <= 2; side++)
            for (size_t k = 0; k < 4; k++) {
                int op = ops[o];
                float s = ss[k];
                if (op == NNL_POW && side == 2 && s < 0)
                    continue; /* (-1.5)^x is NaN */
                nnl_tensor *x = op == NNL_POW && side == 1 ? make(2, sh, 0.5f, 2, 0)
                                : op == NNL_DIV && side == 2 ? make(2, sh, -2, 2, 0.5f)
                                                             : make(2, sh, -2, 2, 0);
                if (op == NNL_MAXIMUM || op == NNL_MINIMUM) /* away from s */
                    for (size_t i = 0; i < x->numel; i++)
                        if (fabsf(x->data[i] - s) < 0.1f)
                            x->data[i] = s + 0.3f;
                ctx c = {side, op, s, 0, NULL};
                nnl_tensor *in[1] = {x};
                if (!agcheck(f_op, &c, in, 1, 1e-2, 1e-2))
                    fail_msg("%s with %g on side %d", nnl_binop_name((nnl_binop)op), (double)s,
                             side);
                nnl_tensor_free(x);
            }
}

static void test_unary_ops(void **state)
{
    (void)state;
    const int ops[] = {NNL_NEG, NNL_EXP, NNL_LOG, NNL_LOG1P, NNL_SQRT, NNL_RSQRT, NNL_ABS,
                       NNL_SIN, NNL_COS, NNL_TANH, NNL_SIGMOID, NNL_RELU};
    size_t sh[3] = {2, 3, 2};
    for (size_t o = 0; o < sizeof ops / sizeof ops[0]; o++) {
        int op = ops[o];
        int positive = op == NNL_LOG || op == NNL_SQRT || op == NNL_RSQRT;
        nnl_tensor *x = positive ? make(3, sh, 0.3f, 3, 0)
                        : op == NNL_LOG1P ? make(3, sh, -0.7f, 3, 0)
                                          : make(3, sh, -2, 2, 0.1f);
        ctx c = {3, op, 0, 0, NULL};
        nnl_tensor *in[1] = {x};
        if (!agcheck(f_op, &c, in, 1, 1e-2, 1e-2))
            fail_msg("%s", nnl_unop_name((nnl_unop)op));
        nnl_tensor_free(x);
    }
}

static void test_act_and_clamp(void **state)
{
    (void)state;
    size_t sh[2] = {3, 4};
    for (int a = 0; a < NNL_KACT_COUNT; a++) {
        if (a == NNL_KACT_SOFTMAX)
            continue;
        nnl_tensor *x = make(2, sh, -2.5f, 2.5f, 0.1f);
        ctx c = {4, a, a == NNL_KACT_LEAKY_RELU ? 0.2f : a == NNL_KACT_ELU ? 0.7f : 0, 0, NULL};
        nnl_tensor *in[1] = {x};
        if (!agcheck(f_op, &c, in, 1, 1e-2, 1e-2))
            fail_msg("act %d", a);
        nnl_tensor_free(x);
    }
    const float b[][2] = {{-1, 1}, {-INFINITY, 0.5f}, {0.25f, INFINITY}};
    for (int k = 0; k < 3; k++) {
        nnl_tensor *x = make(2, sh, -2, 2, 0);
        for (size_t i = 0; i < x->numel; i++) /* away from the bounds */
            if (fabsf(x->data[i] - b[k][0]) < 0.05f || fabsf(x->data[i] - b[k][1]) < 0.05f)
                x->data[i] += 0.2f;
        ctx c = {5, 0, b[k][0], b[k][1], NULL};
        nnl_tensor *in[1] = {x};
        assert_true(agcheck(f_op, &c, in, 1, 1e-2, 1e-2));
        nnl_tensor_free(x);
    }
}

static void test_where_and_masked_fill(void **state)
{
    (void)state;
    size_t sc[2] = {3, 1}, sa[1] = {4}, sb[3] = {2, 1, 1}, sm[1] = {4}, st[2] = {3, 4};
    nnl_tensor *cond = nnl_tensor_new(2, sc, NULL);
    cond->data[0] = 1, cond->data[2] = 1;
    nnl_tensor *in[2] = {make(1, sa, -1, 1, 0), make(3, sb, -1, 1, 0)};
    ctx c = {6, 0, 0, 0, cond};
    assert_true(agcheck(f_op, &c, in, 2, 1e-2, 1e-2));
    /* by hand: a gets the sum over the rows where cond holds (2 of 3, in
     * each of the 2 blocks), b the sum over its block's 1 row x 4 columns */
    nnl_tensor *y = nnl_ag_where(cond, in[0], in[1], NULL);
    assert_string_equal(nnl_ag_op_name(y), "where");
    assert_int_equal(nnl_ag_set_grad(in[0], NULL, NULL), NNL_OK);
    assert_int_equal(nnl_ag_set_grad(in[1], NULL, NULL), NNL_OK);
    nnl_tensor *ones = nnl_tensor_new(y->ndim, y->shape, NULL);
    nnl_tensor_fill(ones, 1.0f);
    assert_int_equal(nnl_ag_backward(y, ones, 0, NULL), NNL_OK);
    for (int i = 0; i < 4; i++)
        assert_true(nnl_ag_grad(in[0])->data[i] == 4.0f);
    assert_true(nnl_ag_grad(in[1])->data[0] == 4.0f && nnl_ag_grad(in[1])->data[1] == 4.0f);
    nnl_tensor_free(ones);
    nnl_tensor_free(y);
    nnl_tensor *mask = nnl_tensor_new(1, sm, NULL);
    mask->data[0] = mask->data[3] = 1;
    nnl_tensor *t[1] = {make(2, st, -1, 1, 0)};
    ctx m = {7, 0, 5.0f, 0, mask};
    assert_true(agcheck(f_op, &m, t, 1, 1e-2, 1e-2));
    for (size_t i = 0; i < 12; i++) /* R's values where the mask is 0, else 0 */
        assert_true(nnl_ag_grad(t[0])->data[i] == (i % 4 == 0 || i % 4 == 3 ? 0.0f
                                                                              : agcheck_r(i)));
    nnl_tensor_free(t[0]);
    nnl_tensor_free(mask);
    nnl_tensor_free(cond);
    nnl_tensor_free(in[0]);
    nnl_tensor_free(in[1]);
}

static void test_a_chain_with_broadcasting(void **state)
{
    (void)state;
    size_t sa[3] = {2, 1, 3}, sb[2] = {5, 1};
    nnl_tensor *in[2] = {make(3, sa, -1, 1, 0), make(2, sb, -1, 1, 0)};
    ctx c = {8, 0, 0, 0, NULL};
    assert_true(agcheck(f_op, &c, in, 2, 1e-2, 1e-2));
    nnl_tensor_free(in[0]);
    nnl_tensor_free(in[1]);
}

/* Hand values: maximum splits a tie in half; d(0^b)/db is 0 for b > 0;
 * rsqrt and abs at known points. */
static void test_hand_computed_gradients(void **state)
{
    (void)state;
    float av[3] = {1, 2, 3}, bv[3] = {1, 5, 0};
    size_t n = 3;
    nnl_tensor *a = nnl_tensor_new(1, &n, NULL), *b = nnl_tensor_new(1, &n, NULL);
    memcpy(a->data, av, sizeof av);
    memcpy(b->data, bv, sizeof bv);
    assert_int_equal(nnl_ag_requires_grad(a, 1, NULL), NNL_OK);
    assert_int_equal(nnl_ag_requires_grad(b, 1, NULL), NNL_OK);
    nnl_tensor *m = nnl_ag_binop(NNL_MAXIMUM, a, b, NULL);
    nnl_tensor *g = nnl_tensor_new(1, &n, NULL);
    nnl_tensor_fill(g, 1.0f);
    assert_int_equal(nnl_ag_backward(m, g, 0, NULL), NNL_OK);
    const float wa[3] = {0.5f, 0, 1}, wb[3] = {0.5f, 1, 0};
    assert_memory_equal(nnl_ag_grad(a)->data, wa, sizeof wa);
    assert_memory_equal(nnl_ag_grad(b)->data, wb, sizeof wb);
    nnl_tensor_free(m);
    /* pow with a zero base: d/db of 0^b = 0, d/da = b a^(b-1) */
    a->data[0] = 0, b->data[0] = 2, a->data[1] = 2, b->data[1] = 3;
    assert_int_equal(nnl_ag_set_grad(a, NULL, NULL), NNL_OK);
    assert_int_equal(nnl_ag_set_grad(b, NULL, NULL), NNL_OK);
    nnl_tensor *p = nnl_ag_binop(NNL_POW, a, b, NULL);
    assert_int_equal(nnl_ag_backward(p, g, 0, NULL), NNL_OK);
    assert_true(nnl_ag_grad(b)->data[0] == 0 && nnl_ag_grad(a)->data[0] == 0);
    assert_true(nnl_ag_grad(a)->data[1] == 12.0f);
    assert_true(fabsf(nnl_ag_grad(b)->data[1] - 8.0f * logf(2.0f)) < 1e-5f);
    nnl_tensor_free(p);
    nnl_tensor_free(a);
    nnl_tensor_free(b);
    nnl_tensor_free(g);
}

/* Comparisons, sign, floor, ceil, round give constants: no node even when
 * the input needs gradients. Differentiable ops name themselves. */
static void test_constants_are_not_recorded(void **state)
{
    (void)state;
    size_t n = 4;
    nnl_tensor *x = make(1, &n, -1, 1, 0);
    assert_int_equal(nnl_ag_requires_grad(x, 1, NULL), NNL_OK);
    for (int op = NNL_GT; op <= NNL_NE; op++) {
        nnl_tensor *y = nnl_ag_binop((nnl_binop)op, x, x, NULL);
        nnl_tensor *z = nnl_ag_binop_scalar((nnl_binop)op, x, 0.0f, 0, NULL);
        assert_null(y->node);
        assert_null(z->node);
        nnl_tensor_free(y);
        nnl_tensor_free(z);
    }
    const int consts[] = {NNL_SIGN, NNL_FLOOR, NNL_CEIL, NNL_ROUND};
    for (int i = 0; i < 4; i++) {
        nnl_tensor *y = nnl_ag_unop((nnl_unop)consts[i], x, NULL);
        assert_null(y->node);
        nnl_tensor_free(y);
    }
    nnl_tensor *e = nnl_ag_unop(NNL_EXP, x, NULL), *s = nnl_ag_binop_scalar(NNL_POW, x, 2, 1, NULL);
    nnl_tensor *a = nnl_ag_act(NNL_KACT_GELU, 0, x, NULL), *c = nnl_ag_clamp(x, 0, 1, NULL);
    assert_string_equal(nnl_ag_op_name(e), "exp");
    assert_string_equal(nnl_ag_op_name(s), "pow");
    assert_string_equal(nnl_ag_op_name(a), "act");
    assert_string_equal(nnl_ag_op_name(c), "clamp");
    nnl_ag_set_enabled(0); /* nothing is recorded with recording off */
    nnl_tensor *q = nnl_ag_binop(NNL_MUL, x, x, NULL);
    assert_null(q->node);
    nnl_ag_set_enabled(1);
    nnl_tensor *all[] = {e, s, a, c, q, x};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        nnl_tensor_free(all[i]);
}

static void test_in_place_refused_while_recording(void **state)
{
    (void)state;
    nnl_error err;
    size_t n = 3;
    nnl_tensor *w = make(1, &n, -1, 1, 0), *plain = make(1, &n, -1, 1, 0);
    nnl_tensor *keep = nnl_tensor_clone(w, NULL), *keep2 = nnl_tensor_clone(plain, NULL);
    assert_int_equal(nnl_ag_requires_grad(w, 1, NULL), NNL_OK);
    unsigned long v = w->storage->version;
    assert_int_not_equal(nnl_ag_binop_(NNL_ADD, w, plain, &err), NNL_OK);
    assert_string_equal(err.msg, "add_: in-place change of a tensor that requires grad (use "
                                 "nn.no_grad or the out-of-place form)");
    assert_int_not_equal(nnl_ag_binop_scalar_(NNL_MUL, w, 2, &err), NNL_OK);
    assert_string_equal(err.msg, "mul_: in-place change of a tensor that requires grad (use "
                                 "nn.no_grad or the out-of-place form)");
    assert_int_not_equal(nnl_ag_add_scaled_(w, plain, 2, &err), NNL_OK);
    assert_int_not_equal(nnl_ag_clamp_(w, 0, 1, &err), NNL_OK);
    assert_non_null(strstr(err.msg, "clamp_: in-place change"));
    assert_int_not_equal(nnl_ag_unop_(NNL_EXP, w, &err), NNL_OK);
    assert_non_null(strstr(err.msg, "exp_: in-place change"));
    assert_int_not_equal(nnl_ag_binop_(NNL_SUB, plain, w, &err), NNL_OK);
    assert_string_equal(err.msg, "sub_: the argument requires grad, which an in-place change "
                                 "cannot record (use the out-of-place form)");
    assert_memory_equal(w->data, keep->data, sizeof(float) * 3);
    assert_memory_equal(plain->data, keep2->data, sizeof(float) * 3);
    assert_true(w->storage->version == v);
    /* allowed with recording off (nn.no_grad), as an optimizer step does */
    nnl_ag_set_enabled(0);
    assert_int_equal(nnl_ag_add_scaled_(w, plain, -0.5f, &err), NNL_OK);
    nnl_ag_set_enabled(1);
    for (int i = 0; i < 3; i++)
        assert_true(w->data[i] == keep->data[i] + -0.5f * plain->data[i]);
    assert_true(w->storage->version == v + 1);
    nnl_tensor_free(w);
    nnl_tensor_free(plain);
    nnl_tensor_free(keep);
    nnl_tensor_free(keep2);
}

/* Out of memory at every allocation of a forward and backward through
 * broadcasting binary ops, pow, where and masked_fill, and of the
 * in-place forms: each call fails cleanly (NULL or a status), nothing
 * leaks, a refused in-place op leaves its tensor as it was, and with
 * enough memory the same calls succeed. */
static int oom_run(nnl_tensor *a, nnl_tensor *b, nnl_tensor *cond)
{
    nnl_error err;
    int ok = 0;
    nnl_tensor *p = nnl_ag_binop(NNL_POW, a, b, &err);
    nnl_tensor *m = p ? nnl_ag_binop(NNL_MAXIMUM, p, b, &err) : NULL;
    nnl_tensor *w = m ? nnl_ag_where(cond, m, a, &err) : NULL;
    nnl_tensor *f = w ? nnl_ag_masked_fill(w, cond, 2.0f, &err) : NULL;
    nnl_tensor *d = f ? nnl_ag_binop_scalar(NNL_DIV, f, 3.0f, 1, &err) : NULL;
    nnl_tensor *g = d ? nnl_tensor_new(d->ndim, d->shape, &err) : NULL;
    if (g) {
        nnl_tensor_fill(g, 1.0f);
        ok = nnl_ag_backward(d, g, 0, &err) == NNL_OK;
    }
    nnl_tensor *all[] = {p, m, w, f, d, g};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        nnl_tensor_free(all[i]);
    return ok;
}

static void test_out_of_memory_everywhere(void **state)
{
    (void)state;
    size_t sa[2] = {3, 1}, sb[1] = {4}, sc[2] = {3, 4};
    nnl_tensor *a = make(2, sa, 0.5f, 2, 0), *b = make(1, sb, 0.5f, 2, 0);
    nnl_tensor *cond = nnl_tensor_new(2, sc, NULL);
    cond->data[1] = cond->data[6] = 1;
    assert_int_equal(nnl_ag_requires_grad(a, 1, NULL), NNL_OK);
    assert_int_equal(nnl_ag_requires_grad(b, 1, NULL), NNL_OK);
    long base = nnl_alloc_live();
    int succeeded = 0;
    long k = 0;
    for (; k < 400 && !succeeded; k++) {
        nnl_alloc_fail_after(k);
        succeeded = oom_run(a, b, cond);
        nnl_alloc_fail_reset();
        assert_int_equal(nnl_ag_set_grad(a, NULL, NULL), NNL_OK);
        assert_int_equal(nnl_ag_set_grad(b, NULL, NULL), NNL_OK);
        assert_int_equal(nnl_alloc_live(), base);
    }
    assert_true(succeeded);
    assert_true(k > 20); /* the walk went through many failing allocations */
    /* in place with an overlapping argument (a copy is made first) */
    size_t sm[2] = {3, 4};
    nnl_tensor *t = make(2, sm, -1, 1, 0), *keep = nnl_tensor_clone(t, NULL);
    nnl_tensor *row = nnl_tensor_select(t, 1, NULL);
    nnl_error err;
    nnl_alloc_fail_after(0);
    assert_int_not_equal(nnl_ag_binop_(NNL_SUB, t, row, &err), NNL_OK);
    assert_int_equal(err.code, NNL_ERR_NOMEM);
    assert_null(nnl_ag_binop(NNL_ADD, t, row, &err));
    assert_null(nnl_ag_unop(NNL_EXP, t, &err));
    nnl_alloc_fail_reset();
    assert_memory_equal(t->data, keep->data, 12 * sizeof(float));
    nnl_tensor *all[] = {a, b, cond, t, keep, row};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        nnl_tensor_free(all[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_binary_ops_on_broadcast_shapes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scalar_forms_both_sides, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unary_ops, setup, teardown),
        cmocka_unit_test_setup_teardown(test_act_and_clamp, setup, teardown),
        cmocka_unit_test_setup_teardown(test_where_and_masked_fill, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_chain_with_broadcasting, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hand_computed_gradients, setup, teardown),
        cmocka_unit_test_setup_teardown(test_constants_are_not_recorded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_in_place_refused_while_recording, setup, teardown),
        cmocka_unit_test_setup_teardown(test_out_of_memory_everywhere, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
