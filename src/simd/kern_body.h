/* The element-wise, row and optimizer kernels, written once.
 *
 * Included by each kern_<isa>.c after it defines a small macro set for its
 * vector registers (ggml style); kern_scalar.c defines the same set over
 * plain floats (VLEN 1), which makes it the reference. Because every level
 * runs the same algorithm, NaN and Inf behave identically everywhere;
 * the macro semantics that matter for this are:
 *   V_MIN(a, b) = a < b ? a : b  and  V_MAX(a, b) = a > b ? a : b
 *   (so a NaN in b comes out, as with SSE minps/maxps), comparisons are
 *   ordered (false on NaN), V_CVT_I rounds to nearest even (NaN -> INT_MIN).
 * Tails shorter than a register go through a padded stack buffer, so they
 * take the same arithmetic as the body.
 *
 * Required macros: VF, VI, VM, VLEN, KSUF (name suffix), V_LOAD, V_STORE,
 * V_SET1, V_ADD, V_SUB, V_MUL, V_DIV, V_FMA(a,b,c)=a*b+c (fused or not),
 * V_SQRT, V_MIN, V_MAX, V_ABS, V_COPYSIGN(mag>=0, sign), V_LT, V_GT, V_EQ,
 * V_ISNAN, V_SEL(m, a, b) = m ? a : b, V_CVT_I, V_I2F, V_ISET1, V_IADD,
 * V_ISUB, V_IAND, V_IOR, V_ISLL(i, n), V_ISRL(i, n), V_ISRA(i, n),
 * V_F2BITS, V_BITS2F. */
#include <math.h>
#include <string.h>

#define KN_(a, b) a##_##b
#define KN2_(a, b) KN_(a, b)
#define KN(name) KN2_(name, KSUF)
#define KINLINE static inline __attribute__((always_inline))

/* ---- tails ------------------------------------------------------------ */

/* Loads rem (< VLEN) floats from p, the other lanes set to pad. A level
 * with masked loads and stores defines V_LOAD_PART / V_STORE_PART (the
 * same values, without the copy through the stack: rows of 10 softmax
 * outputs spent more time there than in the arithmetic). */
KINLINE VF KN(load_part)(const float *p, size_t rem, float pad)
{
#ifdef V_LOAD_PART
    return V_LOAD_PART(p, rem, pad);
#else
    float t[VLEN];
    for (int i = 0; i < VLEN; i++)
        t[i] = pad;
    memcpy(t, p, rem * sizeof(float));
    return V_LOAD(t);
#endif
}

KINLINE void KN(store_part)(float *p, VF v, size_t rem)
{
#ifdef V_STORE_PART
    V_STORE_PART(p, v, rem);
#else
    float t[VLEN];
    V_STORE(t, v);
    memcpy(p, t, rem * sizeof(float));
#endif
}

/* ---- vector math ------------------------------------------------------ */

/* exp: Cody-Waite reduction by ln 2 and a degree-6 polynomial (Cephes
 * expf coefficients); 2^n is applied as two factors so n = 128 does not
 * overflow the exponent field. x > ln(FLT_MAX) gives +inf, x < ln(FLT_MIN)
 * gives 0 (no subnormal results), NaN stays NaN. */
KINLINE VF KN(v_exp)(VF x)
{
    const VF hi = V_SET1(88.72283905206835f), lo = V_SET1(-87.33654475055310898657f);
    VF xc = V_MAX(lo, V_MIN(hi, x));
    VF fx = V_MUL(xc, V_SET1(1.44269504088896341f));
    VI n = V_CVT_I(fx);
    fx = V_I2F(n);
    VF r = V_SUB(xc, V_MUL(fx, V_SET1(0.693359375f)));
    r = V_SUB(r, V_MUL(fx, V_SET1(-2.12194440e-4f)));
    VF p = V_SET1(1.9875691500E-4f);
    p = V_FMA(p, r, V_SET1(1.3981999507E-3f));
    p = V_FMA(p, r, V_SET1(8.3334519073E-3f));
    p = V_FMA(p, r, V_SET1(4.1665795894E-2f));
    p = V_FMA(p, r, V_SET1(1.6666665459E-1f));
    p = V_FMA(p, r, V_SET1(5.0000001201E-1f));
    VF y = V_ADD(V_FMA(V_MUL(p, r), r, r), V_SET1(1.0f));
    VI n1 = V_ISRA(n, 1);
    VI n2 = V_ISUB(n, n1);
    VF s1 = V_BITS2F(V_ISLL(V_IADD(n1, V_ISET1(127)), 23));
    VF s2 = V_BITS2F(V_ISLL(V_IADD(n2, V_ISET1(127)), 23));
    y = V_MUL(V_MUL(y, s1), s2);
    y = V_SEL(V_GT(x, hi), V_SET1(INFINITY), y);
    y = V_SEL(V_LT(x, lo), V_SET1(0.0f), y);
    return y;
}

/* log: exponent split, mantissa in [sqrt(1/2), sqrt(2)), degree-9
 * polynomial (Cephes logf). Subnormals are scaled up first. log(0) = -inf,
 * log(x < 0) = NaN, log(+inf) = +inf, NaN stays NaN. */
KINLINE VF KN(v_log)(VF x)
{
    VM sub = V_LT(x, V_SET1(1.17549435e-38f));
    VF xs = V_SEL(sub, V_MUL(x, V_SET1(8388608.0f)), x);
    VI bits = V_F2BITS(xs);
    VI e = V_ISUB(V_ISRL(bits, 23), V_ISET1(126));
    VF m = V_BITS2F(V_IOR(V_IAND(bits, V_ISET1(0x007fffff)), V_ISET1(0x3f000000)));
    VF fe = V_I2F(e);
    fe = V_SEL(sub, V_SUB(fe, V_SET1(23.0f)), fe);
    VM lt = V_LT(m, V_SET1(0.707106781186547524f));
    fe = V_SEL(lt, V_SUB(fe, V_SET1(1.0f)), fe);
    m = V_SUB(V_SEL(lt, V_ADD(m, m), m), V_SET1(1.0f));
    VF z = V_MUL(m, m);
    VF p = V_SET1(7.0376836292E-2f);
    p = V_FMA(p, m, V_SET1(-1.1514610310E-1f));
    p = V_FMA(p, m, V_SET1(1.1676998740E-1f));
    p = V_FMA(p, m, V_SET1(-1.2420140846E-1f));
    p = V_FMA(p, m, V_SET1(1.4249322787E-1f));
    p = V_FMA(p, m, V_SET1(-1.6668057665E-1f));
    p = V_FMA(p, m, V_SET1(2.0000714765E-1f));
    p = V_FMA(p, m, V_SET1(-2.4999993993E-1f));
    p = V_FMA(p, m, V_SET1(3.3333331174E-1f));
    VF y = V_MUL(V_MUL(p, m), z);
    y = V_FMA(fe, V_SET1(-2.12194440e-4f), y);
    y = V_FMA(z, V_SET1(-0.5f), y);
    y = V_ADD(V_ADD(m, y), V_MUL(fe, V_SET1(0.693359375f)));
    y = V_SEL(V_EQ(x, V_SET1(INFINITY)), x, y);
    y = V_SEL(V_EQ(x, V_SET1(0.0f)), V_SET1(-INFINITY), y);
    y = V_SEL(V_LT(x, V_SET1(0.0f)), V_SET1(NAN), y);
    y = V_SEL(V_ISNAN(x), x, y);
    return y;
}

/* tanh: odd polynomial below 0.625 (Cephes tanhf), else
 * 1 - 2 / (exp(2|x|) + 1) with the sign of x. */
KINLINE VF KN(v_tanh)(VF x)
{
    VF ax = V_ABS(x);
    VF s = V_MUL(x, x);
    VF p = V_SET1(-5.70498872745E-3f);
    p = V_FMA(p, s, V_SET1(2.06390887954E-2f));
    p = V_FMA(p, s, V_SET1(-5.37397155531E-2f));
    p = V_FMA(p, s, V_SET1(1.33314422036E-1f));
    p = V_FMA(p, s, V_SET1(-3.33332819422E-1f));
    VF small = V_FMA(V_MUL(p, s), x, x);
    VF e = KN(v_exp)(V_ADD(ax, ax));
    VF big = V_SUB(V_SET1(1.0f), V_DIV(V_SET1(2.0f), V_ADD(e, V_SET1(1.0f))));
    big = V_COPYSIGN(big, x);
    return V_SEL(V_LT(ax, V_SET1(0.625f)), small, big);
}

/* erf: Taylor series to x^11 below 0.5 (keeps relative accuracy near 0),
 * else Abramowitz-Stegun 7.1.26 (absolute error 1.5e-7). */
KINLINE VF KN(v_erf)(VF x)
{
    VF ax = V_ABS(x);
    VF s = V_MUL(x, x);
    VF p = V_SET1(-1.0f / 1320.0f);
    p = V_FMA(p, s, V_SET1(1.0f / 216.0f));
    p = V_FMA(p, s, V_SET1(-1.0f / 42.0f));
    p = V_FMA(p, s, V_SET1(1.0f / 10.0f));
    p = V_FMA(p, s, V_SET1(-1.0f / 3.0f));
    p = V_FMA(p, s, V_SET1(1.0f));
    VF small = V_MUL(V_MUL(p, x), V_SET1(1.12837916709551257f));
    VF t = V_DIV(V_SET1(1.0f), V_FMA(ax, V_SET1(0.3275911f), V_SET1(1.0f)));
    VF q = V_SET1(1.061405429f);
    q = V_FMA(q, t, V_SET1(-1.453152027f));
    q = V_FMA(q, t, V_SET1(1.421413741f));
    q = V_FMA(q, t, V_SET1(-0.284496736f));
    q = V_FMA(q, t, V_SET1(0.254829592f));
    q = V_MUL(q, t);
    VF e = KN(v_exp)(V_SUB(V_SET1(0.0f), s));
    VF big = V_SUB(V_SET1(1.0f), V_MUL(q, e));
    big = V_COPYSIGN(big, x);
    return V_SEL(V_LT(ax, V_SET1(0.5f)), small, big);
}

KINLINE VF KN(v_sigmoid)(VF x)
{
    VF e = KN(v_exp)(V_SUB(V_SET1(0.0f), x));
    return V_DIV(V_SET1(1.0f), V_ADD(V_SET1(1.0f), e));
}

/* ---- activations ------------------------------------------------------ */

#define NNL_SELU_ALPHA 1.67326324235437728481f
#define NNL_SELU_SCALE 1.05070098735548049342f

/* y = act(x); p is the activation's parameter. */
KINLINE VF KN(v_act)(nnl_kact act, VF x, VF p)
{
    const VF zero = V_SET1(0.0f), one = V_SET1(1.0f);
    switch (act) {
    case NNL_KACT_RELU:
        return V_MAX(zero, x);
    case NNL_KACT_LEAKY_RELU:
        return V_SEL(V_GT(x, zero), x, V_MUL(x, p));
    case NNL_KACT_ELU:
        return V_SEL(V_GT(x, zero), x, V_MUL(p, V_SUB(KN(v_exp)(x), one)));
    case NNL_KACT_SELU:
        return V_MUL(V_SET1(NNL_SELU_SCALE),
                     V_SEL(V_GT(x, zero), x,
                           V_MUL(V_SET1(NNL_SELU_ALPHA), V_SUB(KN(v_exp)(x), one))));
    case NNL_KACT_GELU:
        return V_MUL(V_MUL(V_SET1(0.5f), x),
                     V_ADD(one, KN(v_erf)(V_MUL(x, V_SET1(0.70710678118654752f)))));
    case NNL_KACT_SIGMOID:
        return KN(v_sigmoid)(x);
    case NNL_KACT_HARD_SIGMOID:
        return V_MIN(one, V_MAX(zero, V_ADD(V_MUL(x, V_SET1(1.0f / 6.0f)), V_SET1(0.5f))));
    case NNL_KACT_TANH:
        return KN(v_tanh)(x);
    case NNL_KACT_SOFTPLUS:
        return V_ADD(V_MAX(zero, x),
                     KN(v_log)(V_ADD(one, KN(v_exp)(V_SUB(zero, V_ABS(x))))));
    case NNL_KACT_SOFTSIGN:
        return V_DIV(x, V_ADD(one, V_ABS(x)));
    case NNL_KACT_SWISH:
        return V_MUL(x, KN(v_sigmoid)(x));
    default: /* linear; softmax is row-wise and handled elsewhere */
        return x;
    }
}

/* dx = dy * act'(x) with y = act(x). */
KINLINE VF KN(v_act_bwd)(nnl_kact act, VF x, VF y, VF dy, VF p)
{
    const VF zero = V_SET1(0.0f), one = V_SET1(1.0f);
    switch (act) {
    case NNL_KACT_RELU:
        return V_SEL(V_GT(x, zero), dy, zero);
    case NNL_KACT_LEAKY_RELU:
        return V_SEL(V_GT(x, zero), dy, V_MUL(dy, p));
    case NNL_KACT_ELU:
        return V_SEL(V_GT(x, zero), dy, V_MUL(dy, V_ADD(y, p)));
    case NNL_KACT_SELU:
        return V_SEL(V_GT(x, zero), V_MUL(dy, V_SET1(NNL_SELU_SCALE)),
                     V_MUL(dy, V_ADD(y, V_SET1(NNL_SELU_SCALE * NNL_SELU_ALPHA))));
    case NNL_KACT_GELU: {
        VF cdf = V_MUL(V_SET1(0.5f),
                       V_ADD(one, KN(v_erf)(V_MUL(x, V_SET1(0.70710678118654752f)))));
        VF pdf = V_MUL(KN(v_exp)(V_MUL(V_MUL(x, x), V_SET1(-0.5f))),
                       V_SET1(0.39894228040143267794f));
        return V_MUL(dy, V_ADD(cdf, V_MUL(x, pdf)));
    }
    case NNL_KACT_SIGMOID:
        return V_MUL(dy, V_MUL(y, V_SUB(one, y)));
    case NNL_KACT_HARD_SIGMOID:
        return V_SEL(V_LT(V_ABS(x), V_SET1(3.0f)), V_MUL(dy, V_SET1(1.0f / 6.0f)), zero);
    case NNL_KACT_TANH:
        return V_MUL(dy, V_SUB(one, V_MUL(y, y)));
    case NNL_KACT_SOFTPLUS:
        return V_MUL(dy, KN(v_sigmoid)(x));
    case NNL_KACT_SOFTSIGN: {
        VF d = V_ADD(one, V_ABS(x));
        return V_DIV(dy, V_MUL(d, d));
    }
    case NNL_KACT_SWISH: {
        VF s = KN(v_sigmoid)(x);
        return V_MUL(dy, V_ADD(s, V_MUL(V_MUL(x, s), V_SUB(one, s))));
    }
    default:
        return dy;
    }
}

/* ---- element-wise maps ------------------------------------------------ */

#define KN_BINARY(name, OP)                                                    \
    static void KN(name)(size_t n, const float *a, const float *b, float *y)  \
    {                                                                          \
        size_t i = 0;                                                          \
        for (; i + VLEN <= n; i += VLEN)                                       \
            V_STORE(y + i, OP(V_LOAD(a + i), V_LOAD(b + i)));                  \
        if (i < n)                                                             \
            KN(store_part)(y + i, OP(KN(load_part)(a + i, n - i, 1.0f),        \
                                     KN(load_part)(b + i, n - i, 1.0f)), n - i); \
    }
KN_BINARY(add, V_ADD)
KN_BINARY(sub, V_SUB)
KN_BINARY(mul, V_MUL)
KN_BINARY(div, V_DIV)

static void KN(scale)(size_t n, float s, const float *x, float *y)
{
    VF vs = V_SET1(s);
    size_t i = 0;
    for (; i + VLEN <= n; i += VLEN)
        V_STORE(y + i, V_MUL(vs, V_LOAD(x + i)));
    if (i < n)
        KN(store_part)(y + i, V_MUL(vs, KN(load_part)(x + i, n - i, 0.0f)), n - i);
}

static void KN(add_scalar)(size_t n, float s, const float *x, float *y)
{
    VF vs = V_SET1(s);
    size_t i = 0;
    for (; i + VLEN <= n; i += VLEN)
        V_STORE(y + i, V_ADD(V_LOAD(x + i), vs));
    if (i < n)
        KN(store_part)(y + i, V_ADD(KN(load_part)(x + i, n - i, 0.0f), vs), n - i);
}

/* Not fused, so that it is bitwise equal to the reference. */
static void KN(axpy)(size_t n, float a, const float *x, float *y)
{
    VF va = V_SET1(a);
    size_t i = 0;
    for (; i + VLEN <= n; i += VLEN)
        V_STORE(y + i, V_ADD(V_LOAD(y + i), V_MUL(va, V_LOAD(x + i))));
    if (i < n)
        KN(store_part)(y + i, V_ADD(KN(load_part)(y + i, n - i, 0.0f),
                                    V_MUL(va, KN(load_part)(x + i, n - i, 0.0f))), n - i);
}

static void KN(bias_rows)(size_t rows, size_t cols, const float *bias, float *y, size_t ldy)
{
    for (size_t r = 0; r < rows; r++)
        KN(add)(cols, y + r * ldy, bias, y + r * ldy);
}

#define KN_UNARY(name, F)                                                      \
    static void KN(name)(size_t n, const float *x, float *y)                   \
    {                                                                          \
        size_t i = 0;                                                          \
        for (; i + VLEN <= n; i += VLEN)                                       \
            V_STORE(y + i, F(V_LOAD(x + i)));                                  \
        if (i < n)                                                             \
            KN(store_part)(y + i, F(KN(load_part)(x + i, n - i, 1.0f)), n - i); \
    }
KN_UNARY(exp, KN(v_exp))
KN_UNARY(log, KN(v_log))
KN_UNARY(tanh, KN(v_tanh))
KN_UNARY(erf, KN(v_erf))

/* One loop per activation so the switch is outside the loop. */
KINLINE void KN(act_loop)(nnl_kact act, VF vp, size_t n, const float *x, float *y)
{
    size_t i = 0;
    for (; i + VLEN <= n; i += VLEN)
        V_STORE(y + i, KN(v_act)(act, V_LOAD(x + i), vp));
    if (i < n)
        KN(store_part)(y + i, KN(v_act)(act, KN(load_part)(x + i, n - i, 0.0f), vp), n - i);
}

/* The activations computed element by element (v_act, v_act_bwd): one
 * list for the forward and backward switches. Each case is a constant
 * act, so the loop is specialised per activation. Not here: linear
 * (a copy) and softmax (row-wise, softmax_rows). */
#ifndef KN_ELEMENTWISE_ACTS
#define KN_ELEMENTWISE_ACTS(X)                                             \
    X(NNL_KACT_RELU) X(NNL_KACT_LEAKY_RELU) X(NNL_KACT_ELU) X(NNL_KACT_SELU)   \
    X(NNL_KACT_GELU) X(NNL_KACT_SIGMOID) X(NNL_KACT_HARD_SIGMOID)             \
    X(NNL_KACT_TANH) X(NNL_KACT_SOFTPLUS) X(NNL_KACT_SOFTSIGN) X(NNL_KACT_SWISH)
#endif

static void KN(act_fwd)(nnl_kact act, float param, size_t n, const float *x, float *y)
{
    VF vp = V_SET1(param);
    switch (act) {
#define KN_ACT_CASE(A) case A: KN(act_loop)(A, vp, n, x, y); break;
    KN_ELEMENTWISE_ACTS(KN_ACT_CASE)
#undef KN_ACT_CASE
    default:
        if (y != x)
            memmove(y, x, n * sizeof(float));
        break;
    }
}

KINLINE void KN(act_bwd_loop)(nnl_kact act, VF vp, size_t n, const float *x,
                              const float *y, const float *dy, float *dx)
{
    size_t i = 0;
    for (; i + VLEN <= n; i += VLEN)
        V_STORE(dx + i, KN(v_act_bwd)(act, V_LOAD(x + i), V_LOAD(y + i), V_LOAD(dy + i), vp));
    if (i < n) {
        size_t r = n - i;
        KN(store_part)(dx + i, KN(v_act_bwd)(act, KN(load_part)(x + i, r, 0.0f),
                                             KN(load_part)(y + i, r, 0.0f),
                                             KN(load_part)(dy + i, r, 0.0f), vp), r);
    }
}

static void KN(act_bwd)(nnl_kact act, float param, size_t n, const float *x,
                        const float *y, const float *dy, float *dx)
{
    VF vp = V_SET1(param);
    switch (act) {
#define KN_ACT_CASE(A) case A: KN(act_bwd_loop)(A, vp, n, x, y, dy, dx); break;
    KN_ELEMENTWISE_ACTS(KN_ACT_CASE)
#undef KN_ACT_CASE
    default:
        if (dx != dy)
            memmove(dx, dy, n * sizeof(float));
        break;
    }
}

/* ---- reductions ------------------------------------------------------- */

/* Horizontal reductions go through memory in lane order, so the scalar
 * instantiation is the plain sequential loop. */
KINLINE float KN(hsum)(VF v)
{
    float t[VLEN];
    V_STORE(t, v);
    float s = 0.0f;
    for (int i = 0; i < VLEN; i++)
        s += t[i];
    return s;
}

KINLINE float KN(hmax)(VF v)
{
    float t[VLEN];
    V_STORE(t, v);
    float m = -INFINITY;
    for (int i = 0; i < VLEN; i++)
        m = t[i] > m ? t[i] : m;
    return m;
}

static float KN(sum)(size_t n, const float *x)
{
    VF acc = V_SET1(0.0f);
    size_t i = 0;
    for (; i + VLEN <= n; i += VLEN)
        acc = V_ADD(acc, V_LOAD(x + i));
    if (i < n)
        acc = V_ADD(acc, KN(load_part)(x + i, n - i, 0.0f));
    return KN(hsum)(acc);
}

static float KN(dot)(size_t n, const float *a, const float *b)
{
    VF acc = V_SET1(0.0f);
    size_t i = 0;
    for (; i + VLEN <= n; i += VLEN)
        acc = V_FMA(V_LOAD(a + i), V_LOAD(b + i), acc);
    if (i < n)
        acc = V_FMA(KN(load_part)(a + i, n - i, 0.0f), KN(load_part)(b + i, n - i, 0.0f), acc);
    return KN(hsum)(acc);
}

/* NaN never wins a comparison, so it is skipped. */
static float KN(max)(size_t n, const float *x)
{
    VF acc = V_SET1(-INFINITY);
    size_t i = 0;
    for (; i + VLEN <= n; i += VLEN) {
        VF v = V_LOAD(x + i);
        acc = V_SEL(V_GT(v, acc), v, acc);
    }
    if (i < n) {
        VF v = KN(load_part)(x + i, n - i, -INFINITY);
        acc = V_SEL(V_GT(v, acc), v, acc);
    }
    return KN(hmax)(acc);
}

static size_t KN(argmax)(size_t n, const float *x)
{
    float m = KN(max)(n, x);
    for (size_t i = 0; i < n; i++)
        if (x[i] == m)
            return i;
    return 0;
}

static void KN(row_sum)(size_t rows, size_t cols, const float *x, size_t ldx, float *out)
{
    for (size_t r = 0; r < rows; r++)
        out[r] = KN(sum)(cols, x + r * ldx);
}

static void KN(row_max)(size_t rows, size_t cols, const float *x, size_t ldx, float *out)
{
    for (size_t r = 0; r < rows; r++)
        out[r] = KN(max)(cols, x + r * ldx);
}

static void KN(row_argmax)(size_t rows, size_t cols, const float *x, size_t ldx, size_t *out)
{
    for (size_t r = 0; r < rows; r++)
        out[r] = KN(argmax)(cols, x + r * ldx);
}

static void KN(col_sum)(size_t rows, size_t cols, const float *x, size_t ldx, float *out)
{
    memset(out, 0, cols * sizeof(float));
    for (size_t r = 0; r < rows; r++)
        KN(add)(cols, out, x + r * ldx, out);
}

/* ---- softmax ---------------------------------------------------------- */

/* The shift for a stable softmax: the row max, or 0 when it is infinite
 * (so an all -inf row gives exp(-inf) = 0 rather than NaN from inf - inf
 * in the shift itself). */
KINLINE float KN(shift)(float m)
{
    return isinf(m) ? 0.0f : m;
}

static void KN(softmax_rows)(size_t rows, size_t cols, const float *x, size_t ldx,
                             float *y, size_t ldy)
{
    for (size_t r = 0; r < rows; r++) {
        const float *xr = x + r * ldx;
        float *yr = y + r * ldy;
        VF m = V_SET1(KN(shift)(KN(max)(cols, xr)));
        VF acc = V_SET1(0.0f);
        size_t i = 0;
        for (; i + VLEN <= cols; i += VLEN) {
            VF e = KN(v_exp)(V_SUB(V_LOAD(xr + i), m));
            acc = V_ADD(acc, e);
            V_STORE(yr + i, e);
        }
        if (i < cols) {
            VF e = KN(v_exp)(V_SUB(KN(load_part)(xr + i, cols - i, -INFINITY), m));
            acc = V_ADD(acc, e);
            KN(store_part)(yr + i, e, cols - i);
        }
        KN(scale)(cols, 1.0f / KN(hsum)(acc), yr, yr);
    }
}

static void KN(softmax_bwd_rows)(size_t rows, size_t cols, const float *y,
                                 const float *dy, float *dx)
{
    for (size_t r = 0; r < rows; r++) {
        const float *yr = y + r * cols, *dyr = dy + r * cols;
        float *dxr = dx + r * cols;
        VF d = V_SET1(KN(dot)(cols, dyr, yr));
        size_t i = 0;
        for (; i + VLEN <= cols; i += VLEN)
            V_STORE(dxr + i, V_MUL(V_LOAD(yr + i), V_SUB(V_LOAD(dyr + i), d)));
        if (i < cols)
            KN(store_part)(dxr + i, V_MUL(KN(load_part)(yr + i, cols - i, 0.0f),
                                          V_SUB(KN(load_part)(dyr + i, cols - i, 0.0f), d)),
                           cols - i);
    }
}

static void KN(logsumexp_rows)(size_t rows, size_t cols, const float *x, size_t ldx,
                               float *out)
{
    for (size_t r = 0; r < rows; r++) {
        const float *xr = x + r * ldx;
        float ms = KN(shift)(KN(max)(cols, xr));
        VF m = V_SET1(ms);
        VF acc = V_SET1(0.0f);
        size_t i = 0;
        for (; i + VLEN <= cols; i += VLEN)
            acc = V_ADD(acc, KN(v_exp)(V_SUB(V_LOAD(xr + i), m)));
        if (i < cols)
            acc = V_ADD(acc, KN(v_exp)(V_SUB(KN(load_part)(xr + i, cols - i, -INFINITY), m)));
        float t[VLEN];
        V_STORE(t, KN(v_log)(V_SET1(KN(hsum)(acc))));
        out[r] = ms + t[0];
    }
}

/* ---- optimizer steps (no fused operations: bitwise equal) ------------- */

static void KN(opt_sgd)(size_t n, float *w, const float *g, float lr)
{
    KN(axpy)(n, -lr, g, w);
}

KINLINE void KN(momentum_blk)(float *w, const float *g, float *v, VF lr, VF mu, int nesterov)
{
    VF gv = V_LOAD(g), vv = V_LOAD(v), wv = V_LOAD(w);
    VF step = V_MUL(lr, gv);
    vv = V_SUB(V_MUL(mu, vv), step);
    wv = nesterov ? V_ADD(wv, V_SUB(V_MUL(mu, vv), step)) : V_ADD(wv, vv);
    V_STORE(v, vv);
    V_STORE(w, wv);
}

static void KN(opt_momentum)(size_t n, float *w, const float *g, float *v,
                             float lr, float mu, int nesterov)
{
    VF vl = V_SET1(lr), vm = V_SET1(mu);
    size_t i = 0;
    for (; i + VLEN <= n; i += VLEN)
        KN(momentum_blk)(w + i, g + i, v + i, vl, vm, nesterov);
    if (i < n) {
        float tw[VLEN] = {0}, tg[VLEN] = {0}, tv[VLEN] = {0};
        size_t r = (n - i) * sizeof(float);
        memcpy(tw, w + i, r), memcpy(tg, g + i, r), memcpy(tv, v + i, r);
        KN(momentum_blk)(tw, tg, tv, vl, vm, nesterov);
        memcpy(w + i, tw, r), memcpy(v + i, tv, r);
    }
}

/* The step's constants, broadcast once per call (read through p inside
 * the loop they were reloaded after every store: p might alias w, m, v). */
typedef struct KN(adam_c) {
    VF b1, b2, decay, lr, eps;
} KN(adam_c);

KINLINE void KN(adam_blk)(float *w, const float *g, float *m, float *v, const KN(adam_c) *c)
{
    VF gv = V_LOAD(g), mv = V_LOAD(m), vv = V_LOAD(v), wv = V_LOAD(w);
    mv = V_ADD(mv, V_MUL(V_SUB(gv, mv), c->b1));
    vv = V_ADD(vv, V_MUL(V_SUB(V_MUL(gv, gv), vv), c->b2));
    wv = V_SUB(wv, V_MUL(c->decay, wv));
    wv = V_SUB(wv, V_DIV(V_MUL(c->lr, mv), V_ADD(V_SQRT(vv), c->eps)));
    V_STORE(m, mv);
    V_STORE(v, vv);
    V_STORE(w, wv);
}

static void KN(opt_adam)(size_t n, float *w, const float *g, float *m, float *v,
                         const nnl_adam_params *p)
{
    const KN(adam_c) c = {V_SET1(1.0f - p->beta1), V_SET1(1.0f - p->beta2), V_SET1(p->decay),
                          V_SET1(p->lr_t), V_SET1(p->epsilon)};
    size_t i = 0;
    for (; i + VLEN <= n; i += VLEN)
        KN(adam_blk)(w + i, g + i, m + i, v + i, &c);
    if (i < n) {
        float tw[VLEN] = {0}, tg[VLEN] = {0}, tm[VLEN] = {0}, tv[VLEN] = {0};
        size_t r = (n - i) * sizeof(float);
        memcpy(tw, w + i, r), memcpy(tg, g + i, r), memcpy(tm, m + i, r), memcpy(tv, v + i, r);
        KN(adam_blk)(tw, tg, tm, tv, &c);
        memcpy(w + i, tw, r), memcpy(m + i, tm, r), memcpy(v + i, tv, r);
    }
}

/* One RMSprop/Adagrad step: rho >= 0 gives RMSprop's running average
 * v = rho v + (1 - rho) g^2, rho < 0 Adagrad's sum v += g^2. */
KINLINE void KN(rms_blk)(float *w, const float *g, float *v, VF lr, float rho, VF eps)
{
    VF gv = V_LOAD(g), vv = V_LOAD(v), wv = V_LOAD(w);
    VF g2 = V_MUL(gv, gv);
    vv = rho < 0.0f ? V_ADD(vv, g2)
                    : V_ADD(V_MUL(V_SET1(rho), vv), V_MUL(V_SET1(1.0f - rho), g2));
    wv = V_SUB(wv, V_DIV(V_MUL(lr, gv), V_SQRT(V_ADD(vv, eps))));
    V_STORE(v, vv);
    V_STORE(w, wv);
}

static void KN(rms_loop)(size_t n, float *w, const float *g, float *v, float lr,
                         float rho, float eps)
{
    VF vl = V_SET1(lr), ve = V_SET1(eps);
    size_t i = 0;
    for (; i + VLEN <= n; i += VLEN)
        KN(rms_blk)(w + i, g + i, v + i, vl, rho, ve);
    if (i < n) {
        float tw[VLEN] = {0}, tg[VLEN] = {0}, tv[VLEN] = {0};
        size_t r = (n - i) * sizeof(float);
        memcpy(tw, w + i, r), memcpy(tg, g + i, r), memcpy(tv, v + i, r);
        KN(rms_blk)(tw, tg, tv, vl, rho, ve);
        memcpy(w + i, tw, r), memcpy(v + i, tv, r);
    }
}

static void KN(opt_rmsprop)(size_t n, float *w, const float *g, float *v,
                            float lr, float rho, float eps)
{
    KN(rms_loop)(n, w, g, v, lr, rho < 0.0f ? 0.0f : rho, eps);
}

static void KN(opt_adagrad)(size_t n, float *w, const float *g, float *acc,
                            float lr, float eps)
{
    KN(rms_loop)(n, w, g, acc, lr, -1.0f, eps);
}

/* ---- dropout ------------------------------------------------------------ */

/* lowbias32 (Wellons' integer hash search): a full-avalanche 32-bit mix in
 * two multiplies. */
KINLINE VI KN(mix32)(VI x)
{
    x = V_IXOR(x, V_ISRL(x, 16));
    x = V_IMUL(x, V_ISET1(0x7feb352d));
    x = V_IXOR(x, V_ISRL(x, 15));
    x = V_IMUL(x, V_ISET1((int32_t)0x846ca68bu));
    return V_IXOR(x, V_ISRL(x, 16));
}

/* The mask of lanes i, i+1, ...: 0 where u < rate, else keep, with u the
 * top 24 bits of hash(i, seed) over 2^24 (as nnl_rng_uniform). Integer
 * arithmetic and an exact compare: the same bits at every level. */
KINLINE VF KN(drop_mask)(uint32_t i, VI k0, VI k1, VF thr, VF keep)
{
    VI h = V_IADD(V_ISET1((int32_t)i), V_IOTA);
    h = KN(mix32)(V_IXOR(h, k0));
    h = KN(mix32)(V_IXOR(h, k1));
    VF u = V_I2F(V_ISRL(h, 8));
    return V_SEL(V_LT(u, thr), V_SET1(0.0f), keep);
}

static void KN(dropout)(size_t n, uint64_t seed, float rate, const float *x, float *y,
                        float *mask)
{
    const VI k0 = V_ISET1((int32_t)(uint32_t)seed);
    const VI k1 = V_ISET1((int32_t)(uint32_t)(seed >> 32));
    const VF thr = V_SET1(rate * 16777216.0f), keep = V_SET1(1.0f / (1.0f - rate));
    size_t i = 0;
    for (; i + VLEN <= n; i += VLEN) {
        VF m = KN(drop_mask)((uint32_t)i, k0, k1, thr, keep);
        V_STORE(mask + i, m);
        V_STORE(y + i, V_MUL(V_LOAD(x + i), m));
    }
    if (i < n) {
        VF m = KN(drop_mask)((uint32_t)i, k0, k1, thr, keep);
        KN(store_part)(mask + i, m, n - i);
        KN(store_part)(y + i, V_MUL(KN(load_part)(x + i, n - i, 0.0f), m), n - i);
    }
}

/* Installs the kernels above into a table. */
static void KN(fill_body)(nnl_kernels *k)
{
    k->add = KN(add);
    k->sub = KN(sub);
    k->mul = KN(mul);
    k->div = KN(div);
    k->scale = KN(scale);
    k->add_scalar = KN(add_scalar);
    k->axpy = KN(axpy);
    k->bias_rows = KN(bias_rows);
    k->exp = KN(exp);
    k->log = KN(log);
    k->tanh = KN(tanh);
    k->erf = KN(erf);
    k->act_fwd = KN(act_fwd);
    k->act_bwd = KN(act_bwd);
    k->softmax_rows = KN(softmax_rows);
    k->softmax_bwd_rows = KN(softmax_bwd_rows);
    k->logsumexp_rows = KN(logsumexp_rows);
    k->sum = KN(sum);
    k->dot = KN(dot);
    k->max = KN(max);
    k->argmax = KN(argmax);
    k->row_sum = KN(row_sum);
    k->row_max = KN(row_max);
    k->row_argmax = KN(row_argmax);
    k->col_sum = KN(col_sum);
    k->opt_sgd = KN(opt_sgd);
    k->opt_momentum = KN(opt_momentum);
    k->opt_adam = KN(opt_adam);
    k->opt_rmsprop = KN(opt_rmsprop);
    k->opt_adagrad = KN(opt_adagrad);
    k->dropout = KN(dropout);
}
