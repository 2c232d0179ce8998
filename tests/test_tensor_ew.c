/* Element-wise tensor operations (tensor/tensor_ew.h): numpy broadcasting
 * of every binary op over many shape pairs against a naive multi-index
 * loop written here, scalar and in-place forms, unary ops against libm,
 * act, clamp, where and masked_fill, results independent of the thread
 * count, in-place aliasing, and every error. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/threads.h"
#include "tensor/tensor.h"

static uint32_t lcg = 99u;
static float frand(float lo, float hi)
{
    lcg = lcg * 1664525u + 1013904223u;
    return lo + (hi - lo) * (float)(lcg >> 8) / 16777216.0f;
}

static nnl_tensor *make(int nd, const size_t *shape, float lo, float hi)
{
    nnl_tensor *t = nnl_tensor_new(nd, shape, NULL);
    assert_non_null(t);
    for (size_t i = 0; i < t->numel; i++)
        t->data[i] = frand(lo, hi);
    return t;
}

/* The value of b at the output multi-index idx (nd dims), numpy style. */
static float at(const nnl_tensor *t, int nd, const size_t *idx)
{
    size_t off = 0;
    for (int d = 0; d < t->ndim; d++) {
        size_t i = idx[d + nd - t->ndim];
        off = off * t->shape[d] + (t->shape[d] == 1 ? 0 : i);
    }
    return t->data[off];
}

/* What the op gives for one pair, written out in C (float arithmetic). */
static float ref_op(nnl_binop op, float a, float b)
{
    switch (op) {
    case NNL_ADD: return a + b;
    case NNL_SUB: return a - b;
    case NNL_MUL: return a * b;
    case NNL_DIV: return a / b;
    case NNL_POW: return powf(a, b);
    case NNL_MAXIMUM: return isnan(a) || isnan(b) ? NAN : a > b ? a : b;
    case NNL_MINIMUM: return isnan(a) || isnan(b) ? NAN : a < b ? a : b;
    case NNL_GT: return a > b;
    case NNL_GE: return a >= b;
    case NNL_LT: return a < b;
    case NNL_LE: return a <= b;
    case NNL_EQ: return a == b;
    case NNL_NE: return a != b;
    default: return 0;
    }
}

/* y must be a op b broadcast: its shape is the numpy one, every element
 * as ref_op (pow within 1e-5 relative: exp/log against powf). */
static void check_broadcast(nnl_binop op, const nnl_tensor *a, const nnl_tensor *b,
                            const nnl_tensor *y, int nd, const size_t *want)
{
    assert_int_equal(y->ndim, nd);
    for (int d = 0; d < nd; d++)
        assert_int_equal(y->shape[d], want[d]);
    size_t idx[NNL_MAX_DIMS] = {0};
    for (size_t i = 0; i < y->numel; i++) {
        float r = ref_op(op, at(a, nd, idx), at(b, nd, idx)), g = y->data[i];
        int ok = op == NNL_POW ? fabsf(g - r) <= 1e-5f * fabsf(r) + 1e-30f || (isnan(r) && isnan(g))
                               : (g == r || (isnan(r) && isnan(g)));
        if (!ok)
            fail_msg("%s: element %zu is %.9g, want %.9g", nnl_binop_name(op), i, (double)g,
                     (double)r);
        for (int d = nd - 1; d >= 0; d--) {
            if (++idx[d] < want[d])
                break;
            idx[d] = 0;
        }
    }
}

typedef struct pair {
    int nda, ndb, nd;
    size_t a[4], b[4], out[4];
} pair;

static const pair pairs[] = {
    {2, 2, 2, {2, 3}, {2, 3}, {2, 3}},          /* equal */
    {2, 1, 2, {2, 3}, {1}, {2, 3}},             /* one element */
    {1, 2, 2, {1}, {2, 3}, {2, 3}},
    {2, 1, 2, {4, 5}, {5}, {4, 5}},             /* row vector (bias) */
    {2, 2, 2, {1, 5}, {4, 5}, {4, 5}},
    {2, 2, 2, {4, 5}, {4, 1}, {4, 5}},          /* column vector */
    {2, 2, 2, {4, 1}, {4, 5}, {4, 5}},
    {2, 1, 2, {3, 1}, {4}, {3, 4}},             /* outer product shape */
    {3, 2, 3, {2, 1, 3}, {5, 1}, {2, 5, 3}},
    {3, 3, 3, {2, 1, 3}, {1, 4, 1}, {2, 4, 3}},
    {4, 2, 4, {2, 3, 1, 5}, {4, 1}, {2, 3, 4, 5}},
    {3, 1, 3, {1, 1, 1}, {7}, {1, 1, 7}},
    {2, 2, 2, {0, 3}, {1, 3}, {0, 3}},          /* empty */
    {2, 2, 2, {3, 1}, {1, 0}, {3, 0}},
    {3, 3, 3, {37, 1, 19}, {1, 23, 19}, {37, 23, 19}}, /* runs past a register */
};

static void test_every_binary_op_broadcasts_as_numpy(void **state)
{
    (void)state;
    for (size_t c = 0; c < sizeof pairs / sizeof pairs[0]; c++) {
        const pair *p = &pairs[c];
        nnl_tensor *a = make(p->nda, p->a, -3, 3), *b = make(p->ndb, p->b, -3, 3);
        if (a->numel > 2)
            a->data[1] = NAN;
        if (b->numel > 3)
            b->data[2] = b->data[3] = 1.0f, a->data[0] = 1.0f;
        for (int op = 0; op < NNL_BINOP_COUNT; op++) {
            nnl_error err;
            nnl_tensor *pa = a, *pb = b;
            if (op == NNL_POW) { /* positive bases and integer exponents too */
                pa = nnl_tensor_unop(NNL_ABS, a, NULL);
                pb = nnl_tensor_unop(NNL_ROUND, b, NULL);
            }
            nnl_tensor *y = nnl_tensor_binop((nnl_binop)op, pa, pb, &err);
            assert_non_null(y);
            check_broadcast((nnl_binop)op, pa, pb, y, p->nd, p->out);
            nnl_tensor_free(y);
            if (op == NNL_POW) {
                nnl_tensor_free(pa);
                nnl_tensor_free(pb);
            }
        }
        nnl_tensor_free(a);
        nnl_tensor_free(b);
    }
}

static void test_shapes_that_do_not_broadcast(void **state)
{
    (void)state;
    nnl_error err;
    size_t s23[2] = {2, 3}, s4[1] = {4}, s32[2] = {3, 2}, s0[2] = {0, 3}, s2[2] = {2, 3};
    nnl_tensor *a = make(2, s23, 0, 1), *b = make(1, s4, 0, 1), *c = make(2, s32, 0, 1);
    nnl_tensor *e = make(2, s0, 0, 1), *f = make(2, s2, 0, 1);
    assert_null(nnl_tensor_binop(NNL_ADD, a, b, &err));
    assert_int_equal(err.code, NNL_ERR_SHAPE);
    assert_string_equal(err.msg, "add: shapes [2x3] and [4] do not broadcast");
    assert_null(nnl_tensor_binop(NNL_GE, c, a, &err));
    assert_string_equal(err.msg, "ge: shapes [3x2] and [2x3] do not broadcast");
    assert_null(nnl_tensor_binop(NNL_MAXIMUM, e, f, &err)); /* 0 against 2 */
    assert_string_equal(err.msg, "maximum: shapes [0x3] and [2x3] do not broadcast");
    nnl_tensor_free(a);
    nnl_tensor_free(b);
    nnl_tensor_free(c);
    nnl_tensor_free(e);
    nnl_tensor_free(f);
}

/* A row vector over a matrix, the contract model code uses, both sides. */
static void test_row_vector_contract(void **state)
{
    (void)state;
    size_t sm[2] = {3, 4}, sv[1] = {4}, sr[2] = {1, 4};
    nnl_tensor *m = make(2, sm, -1, 1), *v = make(1, sv, -1, 1), *r = make(2, sr, -1, 1);
    nnl_tensor *y1 = nnl_tensor_binop(NNL_ADD, m, v, NULL);
    nnl_tensor *y2 = nnl_tensor_binop(NNL_SUB, r, m, NULL);
    for (size_t i = 0; i < 12; i++) {
        assert_true(y1->data[i] == m->data[i] + v->data[i % 4]);
        assert_true(y2->data[i] == r->data[i % 4] - m->data[i]);
    }
    assert_int_equal(y1->ndim, 2);
    assert_int_equal(y2->shape[0], 3);
    nnl_tensor_free(y1);
    nnl_tensor_free(y2);
    nnl_tensor_free(m);
    nnl_tensor_free(v);
    nnl_tensor_free(r);
}

/* t op s and s op t equal the one-element tensor forms bit for bit. */
static void test_scalar_forms_equal_one_element_tensors(void **state)
{
    (void)state;
    size_t s[2] = {5, 7}, one = 1;
    nnl_tensor *t = make(2, s, 0.1f, 3), *st = nnl_tensor_new(1, &one, NULL);
    const float vals[] = {2.0f, 0.5f, -1.0f, 1.7f, 3.0f};
    for (size_t v = 0; v < 5; v++) {
        st->data[0] = vals[v];
        for (int op = 0; op < NNL_BINOP_COUNT; op++)
            for (int left = 0; left < 2; left++) {
                nnl_tensor *y = nnl_tensor_binop_scalar((nnl_binop)op, t, vals[v], left, NULL);
                nnl_tensor *z = left ? nnl_tensor_binop((nnl_binop)op, st, t, NULL)
                                     : nnl_tensor_binop((nnl_binop)op, t, st, NULL);
                assert_non_null(y);
                assert_non_null(z);
                assert_memory_equal(y->data, z->data, t->numel * sizeof(float));
                for (size_t i = 0; i < t->numel && op != NNL_POW; i++) {
                    float a = left ? vals[v] : t->data[i], b = left ? t->data[i] : vals[v];
                    assert_true(y->data[i] == ref_op((nnl_binop)op, a, b));
                }
                nnl_tensor_free(y);
                nnl_tensor_free(z);
            }
    }
    nnl_tensor *sq = nnl_tensor_binop_scalar(NNL_POW, t, 2.0f, 0, NULL);
    for (size_t i = 0; i < t->numel; i++)
        assert_true(sq->data[i] == t->data[i] * t->data[i]);
    nnl_tensor_free(sq);
    nnl_tensor_free(st);
    nnl_tensor_free(t);
}

/* The same bits with 1 and 2 threads, on outputs large enough to split. */
static void test_results_do_not_depend_on_the_thread_count(void **state)
{
    (void)state;
    size_t sa[2] = {700, 300}, sb[2] = {700, 1}, sr[1] = {300};
    nnl_tensor *a = make(2, sa, -2, 2), *b = make(2, sb, 0.5f, 2), *r = make(1, sr, -1, 1);
    int keep = nnl_threads_get();
    nnl_tensor *y[2][5];
    for (int th = 0; th < 2; th++) {
        assert_int_equal(nnl_threads_set(th + 1, NULL), NNL_OK);
        y[th][0] = nnl_tensor_binop(NNL_POW, b, a, NULL);
        y[th][1] = nnl_tensor_binop(NNL_ADD, a, r, NULL);
        y[th][2] = nnl_tensor_unop(NNL_SIN, a, NULL);
        y[th][3] = nnl_tensor_where(b, a, r, NULL);
        y[th][4] = nnl_tensor_clone(a, NULL);
        assert_int_equal(nnl_tensor_binop_(NNL_DIV, y[th][4], b, NULL), NNL_OK);
    }
    assert_int_equal(nnl_threads_set(keep, NULL), NNL_OK);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(y[0][i]->numel, 210000);
        assert_memory_equal(y[0][i]->data, y[1][i]->data, y[0][i]->numel * sizeof(float));
        nnl_tensor_free(y[0][i]);
        nnl_tensor_free(y[1][i]);
    }
    nnl_tensor_free(a);
    nnl_tensor_free(b);
    nnl_tensor_free(r);
}

static void test_in_place_forms(void **state)
{
    (void)state;
    nnl_error err;
    size_t s[2] = {3, 4}, sc[2] = {3, 1}, sbig[2] = {2, 4}, sr[1] = {4};
    nnl_tensor *t = make(2, s, -2, 2), *c = make(2, sc, 1, 2), *r = make(1, sr, -1, 1);
    nnl_tensor *orig = nnl_tensor_clone(t, NULL);
    unsigned long v0 = t->storage->version;
    assert_int_equal(nnl_tensor_binop_(NNL_MUL, t, c, &err), NNL_OK);
    for (size_t i = 0; i < 12; i++)
        assert_true(t->data[i] == orig->data[i] * c->data[i / 4]);
    assert_true(t->storage->version == v0 + 1);
    assert_int_equal(nnl_tensor_add_scaled_(t, r, -0.5f, &err), NNL_OK);
    for (size_t i = 0; i < 12; i++)
        assert_true(t->data[i] == orig->data[i] * c->data[i / 4] + -0.5f * r->data[i % 4]);
    assert_int_equal(nnl_tensor_binop_scalar_(NNL_SUB, t, 1.0f, &err), NNL_OK);
    assert_true(t->storage->version == v0 + 3);
    memcpy(t->data, orig->data, 12 * sizeof(float));
    assert_int_equal(nnl_tensor_clamp_(t, -1.0f, 1.0f, &err), NNL_OK);
    assert_int_equal(nnl_tensor_unop_(NNL_EXP, t, &err), NNL_OK);
    for (size_t i = 0; i < 12; i++) {
        float w = fminf(fmaxf(orig->data[i], -1.0f), 1.0f);
        assert_true(fabsf(t->data[i] - expf(w)) <= 2e-7f * expf(w));
    }
    /* t never grows; a failed call changes nothing */
    memcpy(t->data, orig->data, 12 * sizeof(float));
    unsigned long v1 = t->storage->version;
    nnl_tensor *big = make(2, sbig, 0, 1);
    assert_int_not_equal(nnl_tensor_binop_(NNL_ADD, c, t, &err), NNL_OK);
    assert_string_equal(err.msg, "add_: shape [3x4] does not broadcast to the tensor's shape [3x1]");
    assert_int_not_equal(nnl_tensor_binop_(NNL_DIV, t, big, &err), NNL_OK);
    assert_string_equal(err.msg, "div_: shapes [3x4] and [2x4] do not broadcast");
    assert_int_not_equal(nnl_tensor_add_scaled_(t, big, 2.0f, &err), NNL_OK);
    assert_string_equal(err.msg, "add_: shapes [3x4] and [2x4] do not broadcast");
    assert_memory_equal(t->data, orig->data, 12 * sizeof(float));
    assert_true(t->storage->version == v1);
    nnl_tensor_free(big);
    nnl_tensor_free(orig);
    nnl_tensor_free(t);
    nnl_tensor_free(c);
    nnl_tensor_free(r);
}

/* x sharing t's storage: exactly (t += t) or in part (t += its first row,
 * read before any row is written, as numpy). */
static void test_in_place_with_aliased_operands(void **state)
{
    (void)state;
    size_t s[2] = {3, 4};
    nnl_tensor *t = make(2, s, -2, 2), *orig = nnl_tensor_clone(t, NULL);
    assert_int_equal(nnl_tensor_binop_(NNL_ADD, t, t, NULL), NNL_OK);
    for (size_t i = 0; i < 12; i++)
        assert_true(t->data[i] == orig->data[i] * 2);
    memcpy(t->data, orig->data, sizeof(float) * 12);
    nnl_tensor *row0 = nnl_tensor_select(t, 0, NULL);
    assert_int_equal(nnl_tensor_binop_(NNL_SUB, t, row0, NULL), NNL_OK);
    for (size_t i = 0; i < 12; i++)
        assert_true(t->data[i] == orig->data[i] - orig->data[i % 4]);
    memcpy(t->data, orig->data, sizeof(float) * 12);
    nnl_tensor *row2 = nnl_tensor_select(t, 2, NULL);
    assert_int_equal(nnl_tensor_add_scaled_(t, row2, 3.0f, NULL), NNL_OK);
    for (size_t i = 0; i < 12; i++)
        assert_true(t->data[i] == orig->data[i] + 3.0f * orig->data[8 + i % 4]);
    nnl_tensor_free(row0);
    nnl_tensor_free(row2);
    nnl_tensor_free(orig);
    nnl_tensor_free(t);
}

static void test_unary_ops_against_libm(void **state)
{
    (void)state;
    size_t n = 301;
    nnl_tensor *t = nnl_tensor_new(1, &n, NULL), *pos = nnl_tensor_new(1, &n, NULL);
    for (size_t i = 0; i < n; i++) {
        t->data[i] = -7.5f + 0.05f * (float)i;
        pos->data[i] = 0.01f + 0.1f * (float)i;
    }
    t->data[150] = 0.5f, t->data[151] = -2.5f, t->data[152] = 3.5f; /* rounding ties */
    for (int op = 0; op < NNL_UNOP_COUNT; op++) {
        int positive = op == NNL_LOG || op == NNL_SQRT || op == NNL_RSQRT;
        const nnl_tensor *x = positive ? pos : t;
        nnl_tensor *y = nnl_tensor_unop((nnl_unop)op, x, NULL);
        assert_non_null(y);
        for (size_t i = 0; i < n; i++) {
            double v = x->data[i], r = 0, tol = 3e-7;
            switch ((nnl_unop)op) {
            case NNL_NEG: r = -v, tol = 0; break;
            case NNL_EXP: r = exp(v); break;
            case NNL_LOG: r = log(v); break;
            case NNL_LOG1P: r = log1p(v > -0.99 ? v : -0.99); break;
            case NNL_SQRT: r = sqrtf((float)v), tol = 0; break;
            case NNL_RSQRT: r = 1.0f / sqrtf((float)v), tol = 0; break;
            case NNL_ABS: r = fabs(v), tol = 0; break;
            case NNL_SIGN: r = v > 0 ? 1 : v < 0 ? -1 : 0, tol = 0; break;
            case NNL_FLOOR: r = floor(v), tol = 0; break;
            case NNL_CEIL: r = ceil(v), tol = 0; break;
            case NNL_ROUND: r = nearbyint(v), tol = 0; break; /* half to even */
            case NNL_SIN: r = sin(v); break;
            case NNL_COS: r = cos(v); break;
            case NNL_TANH: r = tanh(v); break;
            case NNL_SIGMOID: r = 1 / (1 + exp(-v)); break;
            case NNL_RELU: r = v > 0 ? v : 0, tol = 0; break;
            default: break;
            }
            if (op == NNL_LOG1P && v <= -0.99)
                continue;
            if (!(fabs(y->data[i] - r) <= tol * fmax(1.0, fabs(r))))
                fail_msg("%s(%.9g) = %.9g, want %.9g", nnl_unop_name((nnl_unop)op), v,
                         (double)y->data[i], r);
        }
        nnl_tensor_free(y);
    }
    nnl_tensor *r = nnl_tensor_unop(NNL_ROUND, t, NULL);
    assert_true(r->data[150] == 0 && r->data[151] == -2 && r->data[152] == 4);
    nnl_tensor_free(r);
    nnl_error err;
    assert_null(nnl_tensor_unop((nnl_unop)99, t, &err));
    assert_string_equal(nnl_unop_name(NNL_RSQRT), "rsqrt");
    nnl_tensor_free(t);
    nnl_tensor_free(pos);
}

static void test_act_and_clamp(void **state)
{
    (void)state;
    nnl_error err;
    size_t n = 9;
    nnl_tensor *t = nnl_tensor_new(1, &n, NULL);
    for (size_t i = 0; i < n; i++)
        t->data[i] = -2.0f + 0.5f * (float)i;
    nnl_tensor *l = nnl_tensor_act(NNL_KACT_LEAKY_RELU, 0.1f, t, &err);
    nnl_tensor *e = nnl_tensor_act(NNL_KACT_ELU, 2.0f, t, &err);
    nnl_tensor *c = nnl_tensor_clamp(t, -1.0f, 0.75f, &err);
    nnl_tensor *lo = nnl_tensor_clamp(t, 0.0f, INFINITY, &err);
    for (size_t i = 0; i < n; i++) {
        float x = t->data[i];
        assert_true(l->data[i] == (x > 0 ? x : x * 0.1f));
        assert_true(fabsf(e->data[i] - (x > 0 ? x : 2.0f * (expf(x) - 1.0f))) < 1e-6f);
        assert_true(c->data[i] == fminf(fmaxf(x, -1.0f), 0.75f));
        assert_true(lo->data[i] == fmaxf(x, 0.0f));
    }
    assert_null(nnl_tensor_act(NNL_KACT_SOFTMAX, 0, t, &err));
    assert_string_equal(err.msg, "act: softmax is row-wise: use softmax(dim)");
    assert_null(nnl_tensor_act((nnl_kact)77, 0, t, &err));
    nnl_tensor_free(l);
    nnl_tensor_free(e);
    nnl_tensor_free(c);
    nnl_tensor_free(lo);
    nnl_tensor_free(t);
}

static void test_where_and_masked_fill(void **state)
{
    (void)state;
    nnl_error err;
    size_t sc[2] = {3, 1}, sa[1] = {4}, sb[3] = {2, 1, 1}, sm[1] = {4};
    nnl_tensor *cond = nnl_tensor_new(2, sc, NULL), *a = make(1, sa, 0, 1);
    nnl_tensor *b = make(3, sb, -2, -1);
    cond->data[0] = 1, cond->data[1] = 0, cond->data[2] = NAN; /* NaN counts as true */
    nnl_tensor *y = nnl_tensor_where(cond, a, b, &err);
    assert_non_null(y);
    assert_int_equal(y->ndim, 3);
    assert_int_equal(y->shape[0], 2);
    assert_int_equal(y->shape[1], 3);
    assert_int_equal(y->shape[2], 4);
    for (size_t i = 0; i < 24; i++) {
        size_t k = i / 12, r = (i / 4) % 3, col = i % 4;
        float want = r != 1 ? a->data[col] : b->data[k];
        assert_true(y->data[i] == want);
    }
    size_t s25[2] = {2, 5};
    nnl_tensor *bad = make(2, s25, 0, 1);
    assert_null(nnl_tensor_where(cond, bad, b, &err));
    assert_string_equal(err.msg, "where: shapes [3x1], [2x5] and [2x1x1] do not broadcast");
    /* masked_fill: a row mask over a matrix; the mask may not grow t */
    size_t st[2] = {2, 4};
    nnl_tensor *t = make(2, st, 0, 1), *mask = nnl_tensor_new(1, sm, NULL);
    mask->data[1] = 1, mask->data[3] = -5;
    nnl_tensor *f = nnl_tensor_masked_fill(t, mask, -7.0f, &err);
    for (size_t i = 0; i < 8; i++)
        assert_true(f->data[i] == (i % 2 ? -7.0f : t->data[i]));
    assert_null(nnl_tensor_masked_fill(mask, t, 0, &err));
    assert_string_equal(err.msg,
                        "masked_fill: shape [2x4] does not broadcast to the tensor's shape [4]");
    nnl_tensor *all[] = {cond, a, b, y, bad, t, mask, f};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        nnl_tensor_free(all[i]);
}

static void test_broadcast_shape_helper(void **state)
{
    (void)state;
    nnl_error err;
    size_t a[3] = {2, 1, 3}, b[2] = {5, 1}, out[NNL_MAX_DIMS];
    int nd;
    assert_int_equal(nnl_broadcast_shape("f", 3, a, 2, b, &nd, out, &err), NNL_OK);
    assert_int_equal(nd, 3);
    assert_true(out[0] == 2 && out[1] == 5 && out[2] == 3);
    size_t c[1] = {4};
    assert_int_not_equal(nnl_broadcast_shape("f", 3, a, 1, c, &nd, out, &err), NNL_OK);
    assert_string_equal(err.msg, "f: shapes [2x1x3] and [4] do not broadcast");
    assert_true(nnl_binop_is_compare(NNL_NE) && !nnl_binop_is_compare(NNL_POW));
    assert_string_equal(nnl_binop_name(NNL_MINIMUM), "minimum");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_binary_op_broadcasts_as_numpy),
        cmocka_unit_test(test_shapes_that_do_not_broadcast),
        cmocka_unit_test(test_row_vector_contract),
        cmocka_unit_test(test_scalar_forms_equal_one_element_tensors),
        cmocka_unit_test(test_results_do_not_depend_on_the_thread_count),
        cmocka_unit_test(test_in_place_forms),
        cmocka_unit_test(test_in_place_with_aliased_operands),
        cmocka_unit_test(test_unary_ops_against_libm),
        cmocka_unit_test(test_act_and_clamp),
        cmocka_unit_test(test_where_and_masked_fill),
        cmocka_unit_test(test_broadcast_shape_helper),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
