/* The element-wise math kernels of nn.Tensor (src/tensor/tensor_ew.c),
 * written once: square roots, rounding, sin/cos, log1p, clamp, the binary
 * ops with numpy broadcasting of one-float operands (arithmetic, pow,
 * maximum/minimum, comparisons) and the three-way select of nn.where.
 *
 * Included by each kern_<isa>.c after kern_body.h (whose macro set and
 * helpers it uses: v_exp, v_log, load_part, store_part), like kern_pool.h.
 * Rounding is built from V_CVT_I (nearest even), so every level rounds
 * the same way without SSE4.1's roundps. Bitwise equal across levels:
 * sqrt, rsqrt, abs, sign, floor, ceil, round, clamp, select and the binary
 * ops, pow only where the exponent is an integer of magnitude <= 255 or
 * +-0.5; sin, cos, log1p and the other pow results use polynomials (FMA
 * where the level has it) and agree within docs/simd.md. */

/* ---- rounding --------------------------------------------------------- */

/* mode 0: round half to even, 1: floor, 2: ceil. |x| >= 2^23 is already
 * an integer (and NaN, inf stay as they are); the sign of x is kept, so
 * round(-0.3) = -0 as in numpy and IEEE. */
KINLINE VF KN(v_round_mode)(VF x, int mode)
{
    VF r = V_I2F(V_CVT_I(x));
    if (mode == 1)
        r = V_SEL(V_GT(r, x), V_SUB(r, V_SET1(1.0f)), r);
    else if (mode == 2)
        r = V_SEL(V_LT(r, x), V_ADD(r, V_SET1(1.0f)), r);
    r = V_COPYSIGN(V_ABS(r), x);
    return V_SEL(V_LT(V_ABS(x), V_SET1(8388608.0f)), r, x);
}

KINLINE VF KN(v_round)(VF x) { return KN(v_round_mode)(x, 0); }
KINLINE VF KN(v_floor)(VF x) { return KN(v_round_mode)(x, 1); }
KINLINE VF KN(v_ceil)(VF x) { return KN(v_round_mode)(x, 2); }

/* ---- simple maps ------------------------------------------------------ */

/* 1 / sqrt(x), both correctly rounded (not the approximate rsqrtps). */
KINLINE VF KN(v_rsqrt)(VF x) { return V_DIV(V_SET1(1.0f), V_SQRT(x)); }
KINLINE VF KN(v_abs)(VF x) { return V_ABS(x); }

/* 1 for x > 0, -1 for x < 0, x itself for +-0 and NaN. */
KINLINE VF KN(v_sign)(VF x)
{
    VF s = V_SEL(V_GT(x, V_SET1(0.0f)), V_SET1(1.0f), x);
    return V_SEL(V_LT(x, V_SET1(0.0f)), V_SET1(-1.0f), s);
}

/* log(1 + x) accurately near 0: log(u) * x / (u - 1) with u = 1 + x
 * (Goldberg): the division corrects the rounding of u. u == 1 gives x;
 * x = +inf gives +inf (inf / inf would be NaN). */
KINLINE VF KN(v_log1p)(VF x)
{
    VF u = V_ADD(V_SET1(1.0f), x);
    VF d = V_SUB(u, V_SET1(1.0f));
    VF y = V_MUL(KN(v_log)(u), V_DIV(x, d));
    y = V_SEL(V_EQ(d, V_SET1(0.0f)), x, y);
    return V_SEL(V_EQ(x, V_SET1(INFINITY)), x, y);
}

/* ---- sin and cos ------------------------------------------------------ */

/* sin (cosine when cosine != 0) by reduction to r in [-pi/4, pi/4]: q =
 * nearest integer to x * 2/pi, r = x - q pi/2 with pi/2 in three parts
 * (Cephes's DP1..DP3 doubled; q * DP1 is exact for |q| < 2^16), then the
 * Cephes sinf and cosf polynomials on r by the quadrant q mod 4. The
 * error grows past |x| = 1e4 (docs/simd.md gives it). +-inf, NaN and
 * |x| >= 2^24 (float spacing 2 there: no phase is left) give NaN. */
KINLINE VF KN(v_sincos)(VF x, int cosine)
{
    VF q = KN(v_round)(V_MUL(x, V_SET1(0.636619772367581343f)));
    VI qi = V_CVT_I(q);
    VF r = V_SUB(x, V_MUL(q, V_SET1(1.5703125f)));
    r = V_SUB(r, V_MUL(q, V_SET1(4.837512969970703125e-4f)));
    r = V_SUB(r, V_MUL(q, V_SET1(7.54978995489188216e-8f)));
    if (cosine)
        qi = V_IADD(qi, V_ISET1(1));
    VF z = V_MUL(r, r);
    VF s = V_SET1(-1.9515295891E-4f);
    s = V_FMA(s, z, V_SET1(8.3321608736E-3f));
    s = V_FMA(s, z, V_SET1(-1.6666654611E-1f));
    s = V_FMA(V_MUL(s, z), r, r);
    VF c = V_SET1(2.443315711809948E-5f);
    c = V_FMA(c, z, V_SET1(-1.388731625493765E-3f));
    c = V_FMA(c, z, V_SET1(4.166664568298827E-2f));
    c = V_FMA(V_MUL(c, z), z, V_FMA(z, V_SET1(-0.5f), V_SET1(1.0f)));
    VF y = V_SEL(V_IEQ(V_IAND(qi, V_ISET1(1)), V_ISET1(1)), c, s);
    y = V_SEL(V_IEQ(V_IAND(qi, V_ISET1(2)), V_ISET1(2)), V_SUB(V_SET1(0.0f), y), y);
    /* sin(-0) = -0 (r keeps the sign, but 0 - y above would not) */
    if (!cosine)
        y = V_SEL(V_EQ(x, V_SET1(0.0f)), x, y);
    return V_SEL(V_LT(V_ABS(x), V_SET1(16777216.0f)), y, V_SET1(NAN));
}

KINLINE VF KN(v_sin)(VF x) { return KN(v_sincos)(x, 0); }
KINLINE VF KN(v_cos)(VF x) { return KN(v_sincos)(x, 1); }

KN_UNARY(sqrt, V_SQRT)
KN_UNARY(rsqrt, KN(v_rsqrt))
KN_UNARY(abs, KN(v_abs))
KN_UNARY(sign, KN(v_sign))
KN_UNARY(floor, KN(v_floor))
KN_UNARY(ceil, KN(v_ceil))
KN_UNARY(round, KN(v_round))
KN_UNARY(sin, KN(v_sin))
KN_UNARY(cos, KN(v_cos))
KN_UNARY(log1p, KN(v_log1p))

/* y = min(max(x, lo), hi), as torch.clamp: NaN stays NaN, lo > hi gives
 * hi; an absent bound is -inf or +inf. */
static void KN(clamp)(size_t n, float lo, float hi, const float *x, float *y)
{
    VF vl = V_SET1(lo), vh = V_SET1(hi);
    size_t i = 0;
    for (; i + VLEN <= n; i += VLEN)
        V_STORE(y + i, V_MIN(vh, V_MAX(vl, V_LOAD(x + i))));
    if (i < n)
        KN(store_part)(y + i, V_MIN(vh, V_MAX(vl, KN(load_part)(x + i, n - i, 0.0f))), n - i);
}

/* ---- pow -------------------------------------------------------------- */

/* x^p for integer p with |p| <= NNL_KPOW_INT_MAX by binary powering (the
 * same multiplies for a lane as for a scalar exponent with those bits),
 * 1 / x^|p| for p < 0. */
#define NNL_KPOW_INT_MAX 255
KINLINE VF KN(v_pow_int)(VF x, VI ap, VM neg)
{
    VF res = V_SET1(1.0f), base = x;
    for (int bit = 1; bit <= NNL_KPOW_INT_MAX; bit <<= 1) {
        VM set = V_IEQ(V_IAND(ap, V_ISET1(bit)), V_ISET1(bit));
        res = V_SEL(set, V_MUL(res, base), res);
        base = V_MUL(base, base);
    }
    return V_SEL(neg, V_DIV(V_SET1(1.0f), res), res);
}

/* 1.0f where m holds, else 0.0f: conditions are combined as floats,
 * since the levels' masks (int, vector, opmask) have no common and/or. */
KINLINE VF KN(v_cond)(VM m) { return V_SEL(m, V_SET1(1.0f), V_SET1(0.0f)); }

/* x^p as C's powf, for any x and p: x^0 = 1 and 1^p = 1 (NaN too),
 * (-1)^+-inf = 1; integer |p| <= NNL_KPOW_INT_MAX by v_pow_int (products
 * only: bitwise equal at every level); p = 0.5 and -0.5 by sqrt and
 * rsqrt; otherwise exp(p log|x|), with the sign of x for odd integer p
 * and NaN for x < 0 (not -inf) and non-integer p. */
KINLINE VF KN(v_pow)(VF x, VF p)
{
    const VF zero = V_SET1(0.0f), one = V_SET1(1.0f), inf = V_SET1(INFINITY);
    VF ax = V_ABS(x), ap = V_ABS(p);
    VF y = KN(v_exp)(V_MUL(p, KN(v_log)(ax)));
    /* p integer (every float from 2^23 up is); p odd when p/2 is not
     * (p/2 is exact below 2^24, and even above) */
    VF fint = KN(v_cond)(V_EQ(KN(v_round)(p), p));
    VF half = V_MUL(p, V_SET1(0.5f));
    VF fodd = V_MUL(fint, V_SUB(one, KN(v_cond)(V_EQ(KN(v_round)(half), half))));
    y = V_SEL(V_GT(fodd, zero), V_COPYSIGN(y, x), y); /* y >= 0 here */
    VF fneg = V_MUL(KN(v_cond)(V_LT(x, zero)), V_SUB(one, KN(v_cond)(V_EQ(x, V_SUB(zero, inf)))));
    y = V_SEL(V_GT(V_MUL(fneg, V_SUB(one, fint)), zero), V_SET1(NAN), y);
    VF fsmall = V_MUL(fint, KN(v_cond)(V_LT(ap, V_SET1((float)NNL_KPOW_INT_MAX + 0.5f))));
    VF yi = KN(v_pow_int)(x, V_CVT_I(V_MUL(ap, fsmall)), V_LT(p, zero));
    y = V_SEL(V_GT(fsmall, zero), yi, y);
    y = V_SEL(V_EQ(p, V_SET1(0.5f)), V_SQRT(x), y);
    y = V_SEL(V_EQ(p, V_SET1(-0.5f)), KN(v_rsqrt)(x), y);
    VF funit = V_MUL(KN(v_cond)(V_EQ(ax, one)), KN(v_cond)(V_EQ(ap, inf)));
    y = V_SEL(V_GT(funit, zero), one, y);
    y = V_SEL(V_EQ(x, one), one, y);
    return V_SEL(V_EQ(p, zero), one, y);
}

/* ---- binary ops with broadcasting of a one-float operand ------------- */

/* a op b for the ops of nnl_kbin; comparisons give 1 or 0 (ordered: false
 * on NaN, but ne true). maximum/minimum propagate a NaN of either side,
 * as numpy and torch. */
KINLINE VF KN(v_bin)(nnl_kbin op, VF a, VF b)
{
    const VF zero = V_SET1(0.0f), one = V_SET1(1.0f);
    switch (op) {
    case NNL_KBIN_ADD: return V_ADD(a, b);
    case NNL_KBIN_SUB: return V_SUB(a, b);
    case NNL_KBIN_MUL: return V_MUL(a, b);
    case NNL_KBIN_DIV: return V_DIV(a, b);
    case NNL_KBIN_POW: return KN(v_pow)(a, b);
    case NNL_KBIN_MAX: return V_SEL(V_ISNAN(a), a, V_MAX(a, b));
    case NNL_KBIN_MIN: return V_SEL(V_ISNAN(a), a, V_MIN(a, b));
    case NNL_KBIN_GT: return V_SEL(V_GT(a, b), one, zero);
    case NNL_KBIN_GE: return V_SEL(V_GT(a, b), one, V_SEL(V_EQ(a, b), one, zero));
    case NNL_KBIN_LT: return V_SEL(V_LT(a, b), one, zero);
    case NNL_KBIN_LE: return V_SEL(V_LT(a, b), one, V_SEL(V_EQ(a, b), one, zero));
    case NNL_KBIN_EQ: return V_SEL(V_EQ(a, b), one, zero);
    case NNL_KBIN_NE: return V_SEL(V_EQ(a, b), zero, one);
    default: return a;
    }
}

/* One loop per (op, sa, sb): each a constant where it is called. A
 * one-float operand (step 0) is read once, before anything is stored, so
 * y may be that float. */
KINLINE void KN(bin_loop)(nnl_kbin op, size_t n, const float *a, size_t sa, const float *b,
                          size_t sb, float *y)
{
    const VF ba = V_SET1(sa ? 0.0f : a[0]), bb = V_SET1(sb ? 0.0f : b[0]);
    size_t i = 0;
    for (; i + VLEN <= n; i += VLEN)
        V_STORE(y + i, KN(v_bin)(op, sa ? V_LOAD(a + i) : ba, sb ? V_LOAD(b + i) : bb));
    if (i < n) {
        VF va = sa ? KN(load_part)(a + i, n - i, 1.0f) : ba;
        VF vb = sb ? KN(load_part)(b + i, n - i, 1.0f) : bb;
        KN(store_part)(y + i, KN(v_bin)(op, va, vb), n - i);
    }
}

/* x^p for one exponent p: the fast paths give the bits v_pow gives for
 * that p (the same products, sqrt, rsqrt), without its general part. */
static void KN(pow_scalar)(size_t n, const float *x, float p, float *y)
{
    float ap = fabsf(p);
    if (ap <= (float)NNL_KPOW_INT_MAX && p == (float)(int)p) {
        int e = (int)ap;
        const VF one = V_SET1(1.0f);
        size_t i = 0;
        for (; i < n; i += VLEN) {
            size_t rem = n - i < VLEN ? n - i : VLEN;
            VF base = rem == VLEN ? V_LOAD(x + i) : KN(load_part)(x + i, rem, 1.0f);
            VF res = one;
            for (int bit = 1; bit <= e; bit <<= 1) {
                if (e & bit)
                    res = V_MUL(res, base);
                base = V_MUL(base, base);
            }
            if (p < 0.0f)
                res = V_DIV(one, res);
            if (rem == VLEN)
                V_STORE(y + i, res);
            else
                KN(store_part)(y + i, res, rem);
        }
    } else if (p == 0.5f) {
        KN(sqrt)(n, x, y);
    } else if (p == -0.5f) {
        KN(rsqrt)(n, x, y);
    } else {
        KN(bin_loop)(NNL_KBIN_POW, n, x, 1, &p, 0, y);
    }
}

static void KN(binary)(nnl_kbin op, size_t n, const float *a, size_t sa, const float *b,
                       size_t sb, float *y)
{
    if (n == 0)
        return;
    if (op == NNL_KBIN_POW && sa && !sb) {
        KN(pow_scalar)(n, a, b[0], y);
        return;
    }
    switch (op) {
#define KN_BIN_CASE(OP)                                                        \
    case OP:                                                                   \
        if (sa && sb)                                                          \
            KN(bin_loop)(OP, n, a, 1, b, 1, y);                                \
        else if (sa)                                                           \
            KN(bin_loop)(OP, n, a, 1, b, 0, y);                                \
        else if (sb)                                                           \
            KN(bin_loop)(OP, n, a, 0, b, 1, y);                                \
        else                                                                   \
            KN(bin_loop)(OP, n, a, 0, b, 0, y);                                \
        break;
    KN_BIN_CASE(NNL_KBIN_ADD) KN_BIN_CASE(NNL_KBIN_SUB) KN_BIN_CASE(NNL_KBIN_MUL)
    KN_BIN_CASE(NNL_KBIN_DIV) KN_BIN_CASE(NNL_KBIN_POW) KN_BIN_CASE(NNL_KBIN_MAX)
    KN_BIN_CASE(NNL_KBIN_MIN) KN_BIN_CASE(NNL_KBIN_GT) KN_BIN_CASE(NNL_KBIN_GE)
    KN_BIN_CASE(NNL_KBIN_LT) KN_BIN_CASE(NNL_KBIN_LE) KN_BIN_CASE(NNL_KBIN_EQ)
    KN_BIN_CASE(NNL_KBIN_NE)
#undef KN_BIN_CASE
    default:
        break;
    }
}

/* y = c != 0 ? a : b (a NaN condition counts as true, as numpy), each of
 * c, a, b read with step 1 or as one float (step 0). */
static void KN(select)(size_t n, const float *c, size_t sc, const float *a, size_t sa,
                       const float *b, size_t sb, float *y)
{
    if (n == 0)
        return;
    const VF zero = V_SET1(0.0f);
    const VF bc = V_SET1(sc ? 0.0f : c[0]), ba = V_SET1(sa ? 0.0f : a[0]);
    const VF bb = V_SET1(sb ? 0.0f : b[0]);
    size_t i = 0;
    for (; i + VLEN <= n; i += VLEN) {
        VF vc = sc ? V_LOAD(c + i) : bc, va = sa ? V_LOAD(a + i) : ba;
        VF vb = sb ? V_LOAD(b + i) : bb;
        V_STORE(y + i, V_SEL(V_EQ(vc, zero), vb, va));
    }
    if (i < n) {
        size_t r = n - i;
        VF vc = sc ? KN(load_part)(c + i, r, 0.0f) : bc;
        VF va = sa ? KN(load_part)(a + i, r, 0.0f) : ba;
        VF vb = sb ? KN(load_part)(b + i, r, 0.0f) : bb;
        KN(store_part)(y + i, V_SEL(V_EQ(vc, zero), vb, va), r);
    }
}

/* Installs the kernels above into a table. */
static void KN(fill_ew)(nnl_kernels *k)
{
    k->sqrt = KN(sqrt);
    k->rsqrt = KN(rsqrt);
    k->abs = KN(abs);
    k->sign = KN(sign);
    k->floor = KN(floor);
    k->ceil = KN(ceil);
    k->round = KN(round);
    k->sin = KN(sin);
    k->cos = KN(cos);
    k->log1p = KN(log1p);
    k->clamp = KN(clamp);
    k->binary = KN(binary);
    k->select = KN(select);
}
