/* Element-wise operations on the autograd tape (ag_ew.h): the forward is
 * tensor_ew.c's; each family of ops has one backward that reads its op id
 * from the node (iarg[0]) and its constants from farg. Backward runs with
 * recording off, so it computes with the plain nnl_tensor_* ops. */
#include "tensor/ag_ew.h"

#include <math.h>
#include <stdio.h>

#include "simd/kernels.h"
#include "tensor/autograd.h"

/* ---- helpers for backward functions ----------------------------------- */

/* g (consumed) summed back to input i's shape: g itself when the shapes
 * are equal. NULL (g freed) on failure. */
static nnl_tensor *to_input(const nnl_agnode *n, int i, nnl_tensor *g, nnl_error *err)
{
    if (!g)
        return NULL;
    int same = g->ndim == n->in_ndim[i];
    for (int d = 0; same && d < g->ndim; d++)
        same = g->shape[d] == n->in_shape[i][d];
    if (same)
        return g;
    nnl_tensor *s = nnl_ag_sum_to(g, n->in_ndim[i], n->in_shape[i], err);
    nnl_tensor_free(g);
    return s;
}

/* a op b, then (consuming the result) op2 with c: the two-step products
 * of the backward formulas. Frees what it made on failure. */
static nnl_tensor *bin2(nnl_binop op, const nnl_tensor *a, const nnl_tensor *b, nnl_binop op2,
                        const nnl_tensor *c, nnl_error *err)
{
    nnl_tensor *t = nnl_tensor_binop(op, a, b, err);
    if (!t)
        return NULL;
    nnl_tensor *u = nnl_tensor_binop(op2, t, c, err);
    nnl_tensor_free(t);
    return u;
}

/* t (consumed) times s. */
static nnl_tensor *scaled(nnl_tensor *t, float s, nnl_error *err)
{
    if (!t)
        return NULL;
    nnl_tensor *u = nnl_tensor_binop_scalar(NNL_MUL, t, s, 0, err);
    nnl_tensor_free(t);
    return u;
}

/* The weight of the first operand in a maximum (want_max) or minimum:
 * 1 where it wins, 1/2 on a tie, 0 where it loses. */
static nnl_tensor *win_weight(const nnl_tensor *a, const nnl_tensor *b, int want_max,
                              nnl_error *err)
{
    nnl_tensor *w = nnl_tensor_binop(want_max ? NNL_GT : NNL_LT, a, b, err);
    nnl_tensor *e = w ? nnl_tensor_binop(NNL_EQ, a, b, err) : NULL;
    nnl_tensor *h = scaled(e, 0.5f, err);
    nnl_tensor *s = h ? nnl_tensor_binop(NNL_ADD, w, h, err) : NULL;
    nnl_tensor_free(w);
    nnl_tensor_free(h);
    return s;
}

/* d/db of a^b given y = a^b: y log a, 0 where y is 0 (a = 0, b > 0). */
static nnl_tensor *pow_dexp(const nnl_tensor *a, const nnl_tensor *y, nnl_error *err)
{
    nnl_tensor *l = nnl_tensor_unop(NNL_LOG, a, err);
    nnl_tensor *d = l ? nnl_tensor_binop(NNL_MUL, y, l, err) : NULL;
    nnl_tensor *z = d ? nnl_tensor_binop_scalar(NNL_EQ, y, 0.0f, 0, err) : NULL;
    nnl_tensor *r = z ? nnl_tensor_masked_fill(d, z, 0.0f, err) : NULL;
    nnl_tensor_free(l);
    nnl_tensor_free(d);
    nnl_tensor_free(z);
    return r;
}

/* d/da of a^b: b a^(b-1). */
static nnl_tensor *pow_dbase(const nnl_tensor *a, const nnl_tensor *b, nnl_error *err)
{
    nnl_tensor *bm1 = nnl_tensor_binop_scalar(NNL_SUB, b, 1.0f, 0, err);
    nnl_tensor *p = bm1 ? nnl_tensor_binop(NNL_POW, a, bm1, err) : NULL;
    nnl_tensor *r = p ? nnl_tensor_binop(NNL_MUL, b, p, err) : NULL;
    nnl_tensor_free(bm1);
    nnl_tensor_free(p);
    return r;
}

/* Sets gin[i] and returns whether it is there (err filled when not). */
static int put(nnl_tensor **gin, int i, nnl_tensor *g)
{
    gin[i] = g;
    return g != NULL;
}

/* Frees gin[0..1] after a failure. */
static nnl_status failed(nnl_tensor **gin, nnl_error *err)
{
    for (int i = 0; i < 2; i++) {
        nnl_tensor_free(gin[i]);
        gin[i] = NULL;
    }
    return err->code ? err->code : NNL_ERR_NOMEM;
}

/* ---- binary ----------------------------------------------------------- */

/* Saved: 0 a, 1 b, 2 y (pow only). */
static nnl_status binary_bwd(nnl_agnode *n, const nnl_tensor *g, nnl_tensor **gin,
                             nnl_error *err)
{
    nnl_binop op = (nnl_binop)n->iarg[0];
    const nnl_tensor *a = nnl_ag_saved(n, 0), *b = nnl_ag_saved(n, 1), *y = nnl_ag_saved(n, 2);
    int ok = 1;
    gin[0] = gin[1] = NULL;
    switch (op) {
    case NNL_ADD:
    case NNL_SUB:
        if (n->next[0])
            ok = put(gin, 0, to_input(n, 0, nnl_tensor_clone(g, err), err));
        if (ok && n->next[1])
            ok = put(gin, 1, to_input(n, 1, op == NNL_ADD ? nnl_tensor_clone(g, err)
                                                          : nnl_tensor_neg(g, err), err));
        break;
    case NNL_MUL:
        if (n->next[0])
            ok = put(gin, 0, to_input(n, 0, nnl_tensor_binop(NNL_MUL, g, b, err), err));
        if (ok && n->next[1])
            ok = put(gin, 1, to_input(n, 1, nnl_tensor_binop(NNL_MUL, g, a, err), err));
        break;
    case NNL_DIV: /* d/da = g / b, d/db = -g a / b^2 */
        if (n->next[0])
            ok = put(gin, 0, to_input(n, 0, nnl_tensor_binop(NNL_DIV, g, b, err), err));
        if (ok && n->next[1]) {
            nnl_tensor *b2 = nnl_tensor_binop(NNL_MUL, b, b, err);
            nnl_tensor *q = b2 ? bin2(NNL_MUL, g, a, NNL_DIV, b2, err) : NULL;
            nnl_tensor_free(b2);
            ok = put(gin, 1, to_input(n, 1, scaled(q, -1.0f, err), err));
        }
        break;
    case NNL_POW:
        if (n->next[0]) {
            nnl_tensor *d = pow_dbase(a, b, err);
            nnl_tensor *m = d ? nnl_tensor_binop(NNL_MUL, g, d, err) : NULL;
            nnl_tensor_free(d);
            ok = put(gin, 0, to_input(n, 0, m, err));
        }
        if (ok && n->next[1]) {
            nnl_tensor *d = pow_dexp(a, y, err);
            nnl_tensor *m = d ? nnl_tensor_binop(NNL_MUL, g, d, err) : NULL;
            nnl_tensor_free(d);
            ok = put(gin, 1, to_input(n, 1, m, err));
        }
        break;
    case NNL_MAXIMUM:
    case NNL_MINIMUM:
        for (int i = 0; ok && i < 2; i++) {
            if (!n->next[i])
                continue;
            nnl_tensor *w = win_weight(i ? b : a, i ? a : b, op == NNL_MAXIMUM, err);
            nnl_tensor *m = w ? nnl_tensor_binop(NNL_MUL, g, w, err) : NULL;
            nnl_tensor_free(w);
            ok = put(gin, i, to_input(n, i, m, err));
        }
        break;
    default:
        return nnl_fail(err, NNL_ERR_ARG, "%s: not differentiable", nnl_binop_name(op));
    }
    return ok ? NNL_OK : failed(gin, err);
}

static const nnl_agop binary_ops[NNL_BINOP_COUNT] = {
    {"add", binary_bwd, NULL},     {"sub", binary_bwd, NULL},     {"mul", binary_bwd, NULL},
    {"div", binary_bwd, NULL},     {"pow", binary_bwd, NULL},     {"maximum", binary_bwd, NULL},
    {"minimum", binary_bwd, NULL},
};

/* Records y = f(in[0..nin)) with op and saves save[0..nsave) (NULL slots
 * skipped); frees y and returns NULL on failure. */
static nnl_tensor *record(const nnl_agop *op, nnl_tensor *y, const nnl_tensor *const *in,
                          int nin, const nnl_tensor *const *save, int nsave, long iarg0,
                          const float *farg, int nfarg, nnl_error *err)
{
    nnl_agnode *n;
    if (!y)
        return NULL;
    if (nnl_ag_record(op, y, in, nin, &n, err) != NNL_OK)
        goto fail;
    if (!n)
        return y;
    n->iarg[0] = iarg0;
    for (int i = 0; i < nfarg; i++)
        n->farg[i] = farg[i];
    for (int i = 0; i < nsave; i++)
        if (save[i] && nnl_ag_save(n, i, save[i], err) != NNL_OK)
            goto fail;
    return y;
fail:
    nnl_tensor_free(y);
    return NULL;
}

nnl_tensor *nnl_ag_binop(nnl_binop op, const nnl_tensor *a, const nnl_tensor *b, nnl_error *err)
{
    nnl_tensor *y = nnl_tensor_binop(op, a, b, err);
    if (!y || nnl_binop_is_compare(op) || (unsigned)op >= NNL_BINOP_COUNT)
        return y;
    const nnl_tensor *in[2] = {a, b};
    const nnl_tensor *save[3] = {a, b, op == NNL_POW ? y : NULL};
    int nsave = op == NNL_ADD || op == NNL_SUB ? 0 : 3;
    return record(&binary_ops[op], y, in, 2, save, nsave, op, NULL, 0, err);
}

/* ---- scalar forms ------------------------------------------------------ */

/* farg[0] = s, iarg[1] = scalar_left; saved: 0 t, 1 y. */
static nnl_status scalar_bwd(nnl_agnode *n, const nnl_tensor *g, nnl_tensor **gin,
                             nnl_error *err)
{
    nnl_binop op = (nnl_binop)n->iarg[0];
    int left = (int)n->iarg[1];
    float s = (float)n->farg[0];
    const nnl_tensor *t = nnl_ag_saved(n, 0), *y = nnl_ag_saved(n, 1);
    nnl_tensor *r = NULL;
    gin[0] = gin[1] = NULL;
    switch (op) {
    case NNL_ADD:
        r = nnl_tensor_clone(g, err);
        break;
    case NNL_SUB:
        r = left ? nnl_tensor_neg(g, err) : nnl_tensor_clone(g, err);
        break;
    case NNL_MUL:
        r = nnl_tensor_binop_scalar(NNL_MUL, g, s, 0, err);
        break;
    case NNL_DIV: /* t / s: g / s; s / t: -g y / t */
        if (!left)
            r = nnl_tensor_binop_scalar(NNL_DIV, g, s, 0, err);
        else
            r = scaled(bin2(NNL_MUL, g, y, NNL_DIV, t, err), -1.0f, err);
        break;
    case NNL_POW:
        if (!left) { /* t^s: g s t^(s-1) */
            nnl_tensor *p = nnl_tensor_binop_scalar(NNL_POW, t, s - 1.0f, 0, err);
            r = p ? scaled(nnl_tensor_binop(NNL_MUL, g, p, err), s, err) : NULL;
            nnl_tensor_free(p);
        } else { /* s^t: g y log s (0 where y is 0) */
            nnl_tensor *m = nnl_tensor_binop_scalar(NNL_MUL, y, logf(s), 0, err);
            nnl_tensor *z = m ? nnl_tensor_binop_scalar(NNL_EQ, y, 0.0f, 0, err) : NULL;
            nnl_tensor *d = z ? nnl_tensor_masked_fill(m, z, 0.0f, err) : NULL;
            r = d ? nnl_tensor_binop(NNL_MUL, g, d, err) : NULL;
            nnl_tensor_free(m);
            nnl_tensor_free(z);
            nnl_tensor_free(d);
        }
        break;
    case NNL_MAXIMUM:
    case NNL_MINIMUM: {
        nnl_tensor *w = nnl_tensor_binop_scalar(op == NNL_MAXIMUM ? NNL_GT : NNL_LT, t, s, 0, err);
        nnl_tensor *e = w ? nnl_tensor_binop_scalar(NNL_EQ, t, s, 0, err) : NULL;
        nnl_tensor *h = scaled(e, 0.5f, err);
        nnl_tensor *wt = h ? nnl_tensor_binop(NNL_ADD, w, h, err) : NULL;
        r = wt ? nnl_tensor_binop(NNL_MUL, g, wt, err) : NULL;
        nnl_tensor_free(w);
        nnl_tensor_free(h);
        nnl_tensor_free(wt);
        break;
    }
    default:
        return nnl_fail(err, NNL_ERR_ARG, "%s: not differentiable", nnl_binop_name(op));
    }
    gin[0] = r;
    return r ? NNL_OK : err->code;
}

static const nnl_agop scalar_ops[NNL_BINOP_COUNT] = {
    {"add", scalar_bwd, NULL},     {"sub", scalar_bwd, NULL},     {"mul", scalar_bwd, NULL},
    {"div", scalar_bwd, NULL},     {"pow", scalar_bwd, NULL},     {"maximum", scalar_bwd, NULL},
    {"minimum", scalar_bwd, NULL},
};

nnl_tensor *nnl_ag_binop_scalar(nnl_binop op, const nnl_tensor *t, float s, int scalar_left,
                                nnl_error *err)
{
    nnl_tensor *y = nnl_tensor_binop_scalar(op, t, s, scalar_left, err);
    if (!y || nnl_binop_is_compare(op) || (unsigned)op >= NNL_BINOP_COUNT)
        return y;
    nnl_agnode *n;
    const nnl_tensor *in[1] = {t};
    const nnl_tensor *save[2] = {t, y};
    float farg[1] = {s};
    int nsave = op == NNL_DIV || op == NNL_POW ? 2 : op == NNL_MAXIMUM || op == NNL_MINIMUM ? 1 : 0;
    y = record(&scalar_ops[op], y, in, 1, save, nsave, op, farg, 1, err);
    if (y && (n = y->node) && n->op == &scalar_ops[op])
        n->iarg[1] = scalar_left != 0;
    return y;
}

/* ---- unary ------------------------------------------------------------ */

/* Saved: 0 x, 1 y. */
static nnl_status unary_bwd(nnl_agnode *n, const nnl_tensor *g, nnl_tensor **gin,
                            nnl_error *err)
{
    nnl_unop op = (nnl_unop)n->iarg[0];
    const nnl_tensor *x = nnl_ag_saved(n, 0), *y = nnl_ag_saved(n, 1);
    nnl_tensor *r = NULL, *d = NULL;
    switch (op) {
    case NNL_NEG: r = nnl_tensor_neg(g, err); break;
    case NNL_EXP: r = nnl_tensor_binop(NNL_MUL, g, y, err); break;
    case NNL_LOG: r = nnl_tensor_binop(NNL_DIV, g, x, err); break;
    case NNL_LOG1P:
        d = nnl_tensor_binop_scalar(NNL_ADD, x, 1.0f, 0, err);
        r = d ? nnl_tensor_binop(NNL_DIV, g, d, err) : NULL;
        break;
    case NNL_SQRT: /* g / (2 y) */
        d = nnl_tensor_binop_scalar(NNL_MUL, y, 2.0f, 0, err);
        r = d ? nnl_tensor_binop(NNL_DIV, g, d, err) : NULL;
        break;
    case NNL_RSQRT: /* -g y^3 / 2 */
        d = nnl_tensor_binop_scalar(NNL_POW, y, 3.0f, 0, err);
        r = d ? scaled(nnl_tensor_binop(NNL_MUL, g, d, err), -0.5f, err) : NULL;
        break;
    case NNL_ABS:
        d = nnl_tensor_unop(NNL_SIGN, x, err);
        r = d ? nnl_tensor_binop(NNL_MUL, g, d, err) : NULL;
        break;
    case NNL_SIN:
        d = nnl_tensor_unop(NNL_COS, x, err);
        r = d ? nnl_tensor_binop(NNL_MUL, g, d, err) : NULL;
        break;
    case NNL_COS:
        d = nnl_tensor_unop(NNL_SIN, x, err);
        r = d ? scaled(nnl_tensor_binop(NNL_MUL, g, d, err), -1.0f, err) : NULL;
        break;
    case NNL_TANH:
    case NNL_SIGMOID:
    case NNL_RELU: {
        nnl_kact a = op == NNL_TANH ? NNL_KACT_TANH
                     : op == NNL_SIGMOID ? NNL_KACT_SIGMOID : NNL_KACT_RELU;
        r = nnl_tensor_new_uninit(g->ndim, g->shape, err);
        if (r && r->numel)
            nnl_kernels_active()->act_bwd(a, 0.0f, r->numel, x->data, y->data, g->data, r->data);
        break;
    }
    default:
        return nnl_fail(err, NNL_ERR_ARG, "%s: not differentiable", nnl_unop_name(op));
    }
    nnl_tensor_free(d);
    gin[0] = r;
    return r ? NNL_OK : err->code;
}

static const nnl_agop unary_ops[NNL_UNOP_COUNT] = {
    [NNL_NEG] = {"neg", unary_bwd, NULL},         [NNL_EXP] = {"exp", unary_bwd, NULL},
    [NNL_LOG] = {"log", unary_bwd, NULL},         [NNL_LOG1P] = {"log1p", unary_bwd, NULL},
    [NNL_SQRT] = {"sqrt", unary_bwd, NULL},       [NNL_RSQRT] = {"rsqrt", unary_bwd, NULL},
    [NNL_ABS] = {"abs", unary_bwd, NULL},         [NNL_SIN] = {"sin", unary_bwd, NULL},
    [NNL_COS] = {"cos", unary_bwd, NULL},         [NNL_TANH] = {"tanh", unary_bwd, NULL},
    [NNL_SIGMOID] = {"sigmoid", unary_bwd, NULL}, [NNL_RELU] = {"relu", unary_bwd, NULL},
};

nnl_tensor *nnl_ag_unop(nnl_unop op, const nnl_tensor *t, nnl_error *err)
{
    nnl_tensor *y = nnl_tensor_unop(op, t, err);
    if (!y || !unary_ops[op].name) /* sign, floor, ceil, round: constants */
        return y;
    const nnl_tensor *in[1] = {t};
    const nnl_tensor *save[2] = {t, y};
    return record(&unary_ops[op], y, in, 1, save, 2, op, NULL, 0, err);
}

nnl_tensor *nnl_ag_neg(const nnl_tensor *t, nnl_error *err)
{
    return nnl_ag_unop(NNL_NEG, t, err);
}

/* ---- act, clamp ------------------------------------------------------- */

/* iarg[0] the kernel act, farg[0] its parameter; saved: 0 x, 1 y. */
static nnl_status act_bwd(nnl_agnode *n, const nnl_tensor *g, nnl_tensor **gin, nnl_error *err)
{
    const nnl_tensor *x = nnl_ag_saved(n, 0), *y = nnl_ag_saved(n, 1);
    nnl_tensor *r = nnl_tensor_new_uninit(g->ndim, g->shape, err);
    if (!r)
        return err->code;
    if (r->numel)
        nnl_kernels_active()->act_bwd((nnl_kact)n->iarg[0], (float)n->farg[0], r->numel, x->data,
                                      y->data, g->data, r->data);
    gin[0] = r;
    return NNL_OK;
}
static const nnl_agop op_act = {"act", act_bwd, NULL};

nnl_tensor *nnl_ag_act(nnl_kact act, float param, const nnl_tensor *t, nnl_error *err)
{
    nnl_tensor *y = nnl_tensor_act(act, param, t, err);
    const nnl_tensor *in[1] = {t};
    const nnl_tensor *save[2] = {t, y};
    float farg[1] = {param};
    return record(&op_act, y, in, 1, save, 2, act, farg, 1, err);
}

/* farg: lo, hi; saved: 0 x. g where lo <= x <= hi. */
static nnl_status clamp_bwd(nnl_agnode *n, const nnl_tensor *g, nnl_tensor **gin,
                            nnl_error *err)
{
    const nnl_tensor *x = nnl_ag_saved(n, 0);
    nnl_tensor *ge = nnl_tensor_binop_scalar(NNL_GE, x, (float)n->farg[0], 0, err);
    nnl_tensor *le = ge ? nnl_tensor_binop_scalar(NNL_LE, x, (float)n->farg[1], 0, err) : NULL;
    nnl_tensor *r = le ? bin2(NNL_MUL, g, ge, NNL_MUL, le, err) : NULL;
    nnl_tensor_free(ge);
    nnl_tensor_free(le);
    gin[0] = r;
    return r ? NNL_OK : err->code;
}
static const nnl_agop op_clamp = {"clamp", clamp_bwd, NULL};

nnl_tensor *nnl_ag_clamp(const nnl_tensor *t, float lo, float hi, nnl_error *err)
{
    nnl_tensor *y = nnl_tensor_clamp(t, lo, hi, err);
    const nnl_tensor *in[1] = {t};
    const nnl_tensor *save[1] = {t};
    float farg[2] = {lo, hi};
    return record(&op_clamp, y, in, 1, save, 1, 0, farg, 2, err);
}

/* ---- where, masked_fill ----------------------------------------------- */

/* Inputs a, b; saved: 0 cond. */
static nnl_status where_bwd(nnl_agnode *n, const nnl_tensor *g, nnl_tensor **gin,
                            nnl_error *err)
{
    const nnl_tensor *c = nnl_ag_saved(n, 0);
    nnl_tensor *zero = nnl_tensor_new1(1, err);
    int ok = zero != NULL;
    gin[0] = gin[1] = NULL;
    if (ok && n->next[0])
        ok = put(gin, 0, to_input(n, 0, nnl_tensor_where(c, g, zero, err), err));
    if (ok && n->next[1])
        ok = put(gin, 1, to_input(n, 1, nnl_tensor_where(c, zero, g, err), err));
    nnl_tensor_free(zero);
    return ok ? NNL_OK : failed(gin, err);
}
static const nnl_agop op_where = {"where", where_bwd, NULL};

nnl_tensor *nnl_ag_where(const nnl_tensor *cond, const nnl_tensor *a, const nnl_tensor *b,
                         nnl_error *err)
{
    nnl_tensor *y = nnl_tensor_where(cond, a, b, err);
    const nnl_tensor *in[2] = {a, b};
    const nnl_tensor *save[1] = {cond};
    return record(&op_where, y, in, 2, save, 1, 0, NULL, 0, err);
}

/* Input t; saved: 0 mask. */
static nnl_status masked_fill_bwd(nnl_agnode *n, const nnl_tensor *g, nnl_tensor **gin,
                                  nnl_error *err)
{
    gin[0] = nnl_tensor_masked_fill(g, nnl_ag_saved(n, 0), 0.0f, err);
    return gin[0] ? NNL_OK : err->code;
}
static const nnl_agop op_masked_fill = {"masked_fill", masked_fill_bwd, NULL};

nnl_tensor *nnl_ag_masked_fill(const nnl_tensor *t, const nnl_tensor *mask, float v,
                               nnl_error *err)
{
    nnl_tensor *y = nnl_tensor_masked_fill(t, mask, v, err);
    const nnl_tensor *in[1] = {t};
    const nnl_tensor *save[1] = {mask};
    return record(&op_masked_fill, y, in, 1, save, 1, 0, NULL, 0, err);
}

/* ---- in place --------------------------------------------------------- */

/* Refuses an in-place fn on t (or with argument x) while the tape would
 * need to see it. */
static nnl_status inplace_ok(const char *fn, const nnl_tensor *t, const nnl_tensor *x,
                             nnl_error *err)
{
    if (nnl_ag_needs(t))
        return nnl_fail(err, NNL_ERR_ARG,
                        "%s: in-place change of a tensor that requires grad (use nn.no_grad or "
                        "the out-of-place form)", fn);
    if (x && nnl_ag_needs(x))
        return nnl_fail(err, NNL_ERR_ARG,
                        "%s: the argument requires grad, which an in-place change cannot "
                        "record (use the out-of-place form)", fn);
    return NNL_OK;
}

nnl_status nnl_ag_binop_(nnl_binop op, nnl_tensor *t, const nnl_tensor *x, nnl_error *err)
{
    char fn[24];
    snprintf(fn, sizeof fn, "%s_", nnl_binop_name(op));
    nnl_status st = inplace_ok(fn, t, x, err);
    return st != NNL_OK ? st : nnl_tensor_binop_(op, t, x, err);
}

nnl_status nnl_ag_binop_scalar_(nnl_binop op, nnl_tensor *t, float s, nnl_error *err)
{
    char fn[24];
    snprintf(fn, sizeof fn, "%s_", nnl_binop_name(op));
    nnl_status st = inplace_ok(fn, t, NULL, err);
    return st != NNL_OK ? st : nnl_tensor_binop_scalar_(op, t, s, err);
}

nnl_status nnl_ag_add_scaled_(nnl_tensor *t, const nnl_tensor *x, float alpha, nnl_error *err)
{
    nnl_status st = inplace_ok("add_", t, x, err);
    return st != NNL_OK ? st : nnl_tensor_add_scaled_(t, x, alpha, err);
}

nnl_status nnl_ag_unop_(nnl_unop op, nnl_tensor *t, nnl_error *err)
{
    char fn[24];
    snprintf(fn, sizeof fn, "%s_", nnl_unop_name(op));
    nnl_status st = inplace_ok(fn, t, NULL, err);
    return st != NNL_OK ? st : nnl_tensor_unop_(op, t, err);
}

nnl_status nnl_ag_clamp_(nnl_tensor *t, float lo, float hi, nnl_error *err)
{
    nnl_status st = inplace_ok("clamp_", t, NULL, err);
    return st != NNL_OK ? st : nnl_tensor_clamp_(t, lo, hi, err);
}
