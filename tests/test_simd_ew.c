/* The element-wise math kernels of kern_ew.h (sqrt, rsqrt, abs, sign,
 * floor, ceil, round, sin, cos, log1p, clamp, binary with broadcast
 * operands, select) at every SIMD level this CPU has, against the scalar
 * reference: lengths 0..70 and two large ones, inputs one float past an
 * aligned address, NaN and Inf mixed in. The bitwise kernels must match
 * bit for bit; sin, cos, log1p and pow within docs/simd.md. The reference
 * itself is checked against double-precision libm and hand values. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "simd/kernels.h"

#define NMAX 5000
static const size_t big_lengths[] = {1000, 4099};

/* Documented bounds (docs/simd.md). */
#define SINCOS_MAX_ABS 1.5e-7   /* |x| <= 1e4 */
#define LOG1P_MAX_REL 2.5e-7
#define POW_MAX_REL 3e-7        /* plus POW_PER_LOG * |p log|x|| */
#define POW_PER_LOG 2e-7
#define LEVEL_REL 4e-7          /* SIMD levels against the reference */
#define LEVEL_ABS 2e-7

static uint32_t lcg = 4242u;
static float frand(float lo, float hi)
{
    lcg = lcg * 1664525u + 1013904223u;
    return lo + (hi - lo) * (float)(lcg >> 8) / 16777216.0f;
}

static float store[8][NMAX + 16] __attribute__((aligned(64)));
static float *const X = store[0] + 1, *const Y = store[1] + 1, *const C = store[2] + 1;
static float *const R1 = store[3] + 1, *const R2 = store[4] + 1, *const R3 = store[5] + 1;

/* Uniform in [lo, hi]; with specials about one in nine elements is NaN,
 * +-inf, +-0, huge, tiny or a half-integer (rounding ties). */
static void fill(float *p, size_t n, float lo, float hi, int specials)
{
    static const float sp[] = {NAN, INFINITY, -INFINITY, 0.0f, -0.0f, 1e30f, -1e30f, 1e-40f,
                               2.5f, -2.5f, 0.5f, -1.5f, 8388609.0f, 1.0f, -1.0f};
    for (size_t i = 0; i < n; i++) {
        p[i] = frand(lo, hi);
        if (specials && (lcg >> 27) % 9 == 0)
            p[i] = sp[(lcg >> 13) % (sizeof sp / sizeof sp[0])];
    }
}

static const char *cur_kernel, *cur_isa;
static size_t cur_n;

/* got against ref: NaN where ref is NaN, equal infinities, and within
 * abs + rel * |ref| (both 0: the same bits, any NaN matching NaN). */
static void expect_close(const float *ref, const float *got, size_t n, double rel, double abs_tol)
{
    for (size_t i = 0; i < n; i++) {
        float r = ref[i], g = got[i];
        int ok;
        if (isnan(r) || isnan(g))
            ok = isnan(r) && isnan(g);
        else if (isinf(r) || isinf(g))
            ok = r == g;
        else if (rel == 0 && abs_tol == 0)
            ok = memcmp(&r, &g, sizeof r) == 0;
        else
            ok = fabs((double)g - (double)r) <= abs_tol + rel * fabs((double)r);
        if (!ok)
            fail_msg("%s at %s, n=%zu: element %zu is %.9g, reference %.9g (x %.9g)", cur_kernel,
                     cur_isa, cur_n, i, (double)g, (double)r, (double)X[i]);
    }
}

typedef void (*check_fn)(const nnl_kernels *ref, const nnl_kernels *k, size_t n);
/* body(ref, level, n) for every level above scalar and every length,
 * then the reference against itself (it must run on these inputs). */
static void for_levels(const char *name, check_fn body)
{
    const nnl_kernels *ref = nnl_kernels_for(NNL_ISA_SCALAR);
    assert_non_null(ref);
    cur_kernel = name;
    for (int isa = NNL_ISA_SSE2; isa <= NNL_ISA_AVX512; isa++) {
        const nnl_kernels *k = nnl_kernels_for((nnl_isa)isa);
        if (!k)
            continue;
        cur_isa = nnl_isa_name((nnl_isa)isa);
        for (size_t n = 0; n <= 72; n++) {
            cur_n = n <= 70 ? n : big_lengths[n - 71];
            body(ref, k, cur_n);
        }
    }
    cur_isa = "scalar";
    cur_n = 67;
    body(ref, ref, cur_n);
}

/* ---- unary ------------------------------------------------------------ */

typedef void (*unary_fn)(size_t, const float *, float *);
static const struct {
    const char *name;
    size_t off;
    int bitwise;
} unaries[] = {
    {"sqrt", offsetof(nnl_kernels, sqrt), 1},   {"rsqrt", offsetof(nnl_kernels, rsqrt), 1},
    {"abs", offsetof(nnl_kernels, abs), 1},     {"sign", offsetof(nnl_kernels, sign), 1},
    {"floor", offsetof(nnl_kernels, floor), 1}, {"ceil", offsetof(nnl_kernels, ceil), 1},
    {"round", offsetof(nnl_kernels, round), 1}, {"sin", offsetof(nnl_kernels, sin), 0},
    {"cos", offsetof(nnl_kernels, cos), 0},     {"log1p", offsetof(nnl_kernels, log1p), 0},
};
static size_t cur_unary;

static unary_fn get_unary(const nnl_kernels *k, size_t i)
{
    unary_fn f;
    memcpy(&f, (const char *)k + unaries[i].off, sizeof f);
    return f;
}

static void chk_unary(const nnl_kernels *ref, const nnl_kernels *k, size_t n)
{
    size_t u = cur_unary;
    double rel = unaries[u].bitwise ? 0 : LEVEL_REL, abs_tol = unaries[u].bitwise ? 0 : LEVEL_ABS;
    fill(X, n, -20, 20, 1);
    get_unary(ref, u)(n, X, R1);
    get_unary(k, u)(n, X, R2);
    expect_close(R1, R2, n, rel, abs_tol);
    /* in place */
    memcpy(R3, X, n * sizeof(float));
    get_unary(k, u)(n, R3, R3);
    expect_close(R1, R3, n, rel, abs_tol);
}

static void test_unary_kernels_match_the_reference_at_every_level(void **state)
{
    (void)state;
    for (cur_unary = 0; cur_unary < sizeof unaries / sizeof unaries[0]; cur_unary++)
        for_levels(unaries[cur_unary].name, chk_unary);
}

/* ---- clamp, binary, select -------------------------------------------- */

static void chk_clamp(const nnl_kernels *ref, const nnl_kernels *k, size_t n)
{
    const float bounds[][2] = {{-1, 2}, {-INFINITY, 0.5f}, {-3, INFINITY}, {2, -1}};
    fill(X, n, -5, 5, 1);
    for (size_t b = 0; b < 4; b++) {
        ref->clamp(n, bounds[b][0], bounds[b][1], X, R1);
        k->clamp(n, bounds[b][0], bounds[b][1], X, R2);
        expect_close(R1, R2, n, 0, 0);
    }
}

static nnl_kbin cur_op;

static void chk_binary(const nnl_kernels *ref, const nnl_kernels *k, size_t n)
{
    nnl_kbin op = cur_op;
    int exact = op != NNL_KBIN_POW;
    double rel = exact ? 0 : LEVEL_REL, abs_tol = exact ? 0 : LEVEL_ABS;
    fill(X, n, -4, 4, 1);
    fill(Y, n, -4, 4, 1);
    if (op == NNL_KBIN_POW) /* some integer exponents, so both paths run */
        for (size_t i = 0; i < n; i += 3)
            if (fabsf(Y[i]) < 100.0f)
                Y[i] = (float)((int)Y[i] * 3);
    for (int mode = 0; mode < 4; mode++) {
        size_t sa = mode & 1 ? 0 : 1, sb = mode & 2 ? 0 : 1;
        ref->binary(op, n, X, sa, Y, sb, R1);
        k->binary(op, n, X, sa, Y, sb, R2);
        expect_close(R1, R2, n, rel, abs_tol);
    }
    /* in place into a: y == a */
    ref->binary(op, n, X, 1, Y, 1, R1);
    memcpy(R3, X, n * sizeof(float));
    k->binary(op, n, R3, 1, Y, 1, R3);
    expect_close(R1, R3, n, rel, abs_tol);
}

static void test_binary_kernels_match_the_reference_at_every_level(void **state)
{
    (void)state;
    static const char *names[] = {"add", "sub", "mul", "div", "pow", "maximum", "minimum",
                                  "gt", "ge", "lt", "le", "eq", "ne"};
    for (int op = 0; op < NNL_KBIN_COUNT; op++) {
        cur_op = (nnl_kbin)op;
        for_levels(names[op], chk_binary);
    }
    for_levels("clamp", chk_clamp);
}

/* Scalar exponents: every fast path (integers, 0.5, -0.5) gives what the
 * general kernel gives for a tensor of that exponent, at every level. */
static void test_pow_scalar_fast_paths_equal_the_tensor_exponent(void **state)
{
    (void)state;
    const float ps[] = {0, 1, 2, 3, -1, -2, 7, 255, -255, 256, 0.5f, -0.5f, 1.5f, -0.3f, 40};
    size_t n = 67;
    fill(X, n, -3, 3, 1);
    for (int isa = 0; isa <= NNL_ISA_AVX512; isa++) {
        const nnl_kernels *k = nnl_kernels_for((nnl_isa)isa);
        if (!k)
            continue;
        cur_kernel = "pow";
        cur_isa = nnl_isa_name((nnl_isa)isa);
        cur_n = n;
        for (size_t j = 0; j < sizeof ps / sizeof ps[0]; j++) {
            for (size_t i = 0; i < n; i++)
                Y[i] = ps[j];
            k->binary(NNL_KBIN_POW, n, X, 1, Y, 1, R1);
            k->binary(NNL_KBIN_POW, n, X, 1, &ps[j], 0, R2);
            expect_close(R1, R2, n, 0, 0);
        }
    }
}

static void chk_select(const nnl_kernels *ref, const nnl_kernels *k, size_t n)
{
    fill(X, n, -4, 4, 1);
    fill(Y, n, -4, 4, 1);
    fill(C, n, -1, 1, 0);
    for (size_t i = 0; i < n; i++)
        C[i] = i % 5 == 4 ? NAN : C[i] > 0 ? 1.0f : 0.0f;
    for (int mode = 0; mode < 8; mode++) {
        size_t sc = mode & 1 ? 0 : 1, sa = mode & 2 ? 0 : 1, sb = mode & 4 ? 0 : 1;
        ref->select(n, C, sc, X, sa, Y, sb, R1);
        k->select(n, C, sc, X, sa, Y, sb, R2);
        expect_close(R1, R2, n, 0, 0);
        for (size_t i = 0; i < n; i++) {
            float c = C[i * sc], want = c != 0 ? X[i * sa] : Y[i * sb];
            if (memcmp(&want, &R1[i], sizeof want) != 0 && !(isnan(want) && isnan(R1[i])))
                fail_msg("select at %zu", i);
        }
    }
}

static void test_select_matches_the_reference_at_every_level(void **state)
{
    (void)state;
    for_levels("select", chk_select);
}

/* ---- the reference against libm and hand values ----------------------- */

#define M 200001
static float xs[M], ys[M];

static void test_sin_cos_log1p_pow_within_documented_error(void **state)
{
    (void)state;
    for (int isa = 0; isa <= NNL_ISA_AVX512; isa++) {
        const nnl_kernels *k = nnl_kernels_for((nnl_isa)isa);
        if (!k)
            continue;
        const char *name = nnl_isa_name((nnl_isa)isa);
        for (int i = 0; i < M; i++)
            xs[i] = -1e4f + 2e4f * (float)i / (float)(M - 1);
        for (int c = 0; c < 2; c++) {
            (c ? k->cos : k->sin)(M, xs, ys);
            for (int i = 0; i < M; i++) {
                double r = c ? cos((double)xs[i]) : sin((double)xs[i]);
                if (fabs(ys[i] - r) > SINCOS_MAX_ABS)
                    fail_msg("%s %s(%.9g) = %.9g, want %.9g", name, c ? "cos" : "sin",
                             (double)xs[i], (double)ys[i], r);
            }
        }
        for (int i = 0; i < M; i++) /* -1 < x < 1e6, dense near 0 */
            xs[i] = (float)(i % 2 ? 1e6 * pow((double)i / M, 4) : -pow((double)i / M, 3)) * 0.9999f;
        k->log1p(M, xs, ys);
        for (int i = 0; i < M; i++) {
            double r = log1p((double)xs[i]);
            if (fabs(ys[i] - r) > LOG1P_MAX_REL * fabs(r) + 1e-45)
                fail_msg("%s log1p(%.9g) = %.9g, want %.9g", name, (double)xs[i], (double)ys[i], r);
        }
        /* pow over bases in (0, 10] and exponents in [-8, 8] */
        for (int i = 0; i < M; i++) {
            xs[i] = 1e-3f + 10.0f * (float)(i % 1000) / 1000.0f;
            ys[i] = -8.0f + 16.0f * (float)(i / 1000) / (float)(M / 1000);
        }
        static float zs[M];
        k->binary(NNL_KBIN_POW, M, xs, 1, ys, 1, zs);
        for (int i = 0; i < M; i++) {
            double r = pow((double)xs[i], (double)ys[i]);
            double tol = POW_MAX_REL + POW_PER_LOG * fabs(ys[i] * log((double)xs[i]));
            if (fabs(zs[i] - r) > tol * r)
                fail_msg("%s pow(%.9g, %.9g) = %.9g, want %.9g", name, (double)xs[i],
                         (double)ys[i], (double)zs[i], r);
        }
    }
}

/* Special values, as C (powf, floorf, ...), numpy and torch give them. */
static void test_special_values(void **state)
{
    (void)state;
    for (int isa = 0; isa <= NNL_ISA_AVX512; isa++) {
        const nnl_kernels *k = nnl_kernels_for((nnl_isa)isa);
        if (!k)
            continue;
        const float rx[] = {2.5f, -2.5f, 0.5f, -0.5f, 1.5f, -0.3f, 8388609.0f, -0.0f, 1e30f, 3.7f};
        float r[10], f[10], c[10];
        k->round(10, rx, r);
        k->floor(10, rx, f);
        k->ceil(10, rx, c);
        const float wr[] = {2, -2, 0, -0.0f, 2, -0.0f, 8388609.0f, -0.0f, 1e30f, 4};
        const float wf[] = {2, -3, 0, -1, 1, -1, 8388609.0f, -0.0f, 1e30f, 3};
        const float wc[] = {3, -2, 1, -0.0f, 2, -0.0f, 8388609.0f, -0.0f, 1e30f, 4};
        for (int i = 0; i < 10; i++) {
            assert_memory_equal(&r[i], &wr[i], sizeof(float));
            assert_memory_equal(&f[i], &wf[i], sizeof(float));
            assert_memory_equal(&c[i], &wc[i], sizeof(float));
        }
        const float sx[] = {NAN, INFINITY, -INFINITY, 0.0f, -0.0f, -2.0f, 4.0f};
        float s[7], q[7], g[7], a[7], sn[7], cs[7], lp[7];
        k->sqrt(7, sx, s);
        k->rsqrt(7, sx, q);
        k->sign(7, sx, g);
        k->abs(7, sx, a);
        k->sin(7, sx, sn);
        k->cos(7, sx, cs);
        k->log1p(7, sx, lp);
        assert_true(isnan(s[0]) && s[1] == INFINITY && isnan(s[2]) && s[3] == 0 && isnan(s[5]));
        assert_true(s[6] == 2.0f && q[6] == 0.5f && q[3] == INFINITY && q[1] == 0.0f);
        assert_true(isnan(g[0]) && g[1] == 1 && g[2] == -1 && g[5] == -1 && g[6] == 1);
        assert_true(g[3] == 0 && !signbit(g[3]) && signbit(g[4]));
        assert_true(isnan(a[0]) && a[2] == INFINITY && a[5] == 2 && !signbit(a[4]));
        assert_true(isnan(sn[0]) && isnan(sn[1]) && isnan(sn[2]) && isnan(cs[1]));
        assert_true(sn[3] == 0 && signbit(sn[4]) && cs[3] == 1 && cs[4] == 1);
        assert_true(isnan(lp[0]) && lp[1] == INFINITY && isnan(lp[2]) && lp[3] == 0);
        assert_true(signbit(lp[4]) && isnan(lp[5]) && fabs(lp[6] - log(5.0)) < 1e-6);
        const float m1 = -1.0f, tiny = 1e-30f;
        k->log1p(1, &m1, lp);
        k->log1p(1, &tiny, lp + 1);
        assert_true(lp[0] == -INFINITY && lp[1] == tiny);

        /* pow: (x, p, want) as powf gives them */
        const float pw[][3] = {
            {NAN, 0, 1},          {1, NAN, 1},           {-1, INFINITY, 1},  {2, 10, 1024},
            {-2, 3, -8},          {-2, -2, 0.25f},       {-2, 0.5f, NAN},    {-8, 1.0f / 3, NAN},
            {0, -1, INFINITY},    {-0.0f, -1, -INFINITY}, {0, 2, 0},         {-0.0f, 3, -0.0f},
            {INFINITY, -1, 0},    {-INFINITY, 3, -INFINITY}, {-INFINITY, 2, INFINITY},
            {4, 0.5f, 2},         {4, -0.5f, 0.5f},      {2, -1, 0.5f},      {9, 1.5f, 27},
            {0.5f, INFINITY, 0},  {2, INFINITY, INFINITY}, {-3, 1000, INFINITY},
            {-3, 1001, -INFINITY}, {NAN, 2, NAN},
        };
        for (size_t i = 0; i < sizeof pw / sizeof pw[0]; i++) {
            float got;
            k->binary(NNL_KBIN_POW, 1, &pw[i][0], 1, &pw[i][1], 1, &got);
            int ok = isnan(pw[i][2]) ? isnan(got)
                                     : fabsf(got - pw[i][2]) <= 1e-6f * fabsf(pw[i][2]) ||
                                           got == pw[i][2];
            if (ok && pw[i][2] == 0)
                ok = signbit(got) == signbit(pw[i][2]);
            if (!ok)
                fail_msg("%s pow(%g, %g) = %g, want %g", nnl_isa_name((nnl_isa)isa),
                         (double)pw[i][0], (double)pw[i][1], (double)got, (double)pw[i][2]);
        }

        /* maximum/minimum propagate NaN from either side; comparisons */
        const float ma[] = {1, NAN, 3, -0.0f}, mb[] = {NAN, 2, 1, 0.0f};
        float mx[4], mn[4], cmp[4];
        k->binary(NNL_KBIN_MAX, 4, ma, 1, mb, 1, mx);
        k->binary(NNL_KBIN_MIN, 4, ma, 1, mb, 1, mn);
        assert_true(isnan(mx[0]) && isnan(mx[1]) && mx[2] == 3 && isnan(mn[0]) && isnan(mn[1]));
        assert_true(mn[2] == 1);
        const float wants[6][4] = {{0, 0, 1, 0}, {0, 0, 1, 1}, {0, 0, 0, 0},
                                   {0, 0, 0, 1}, {0, 0, 0, 1}, {1, 1, 1, 0}};
        for (int op = NNL_KBIN_GT; op <= NNL_KBIN_NE; op++) {
            k->binary((nnl_kbin)op, 4, ma, 1, mb, 1, cmp);
            assert_memory_equal(cmp, wants[op - NNL_KBIN_GT], sizeof cmp);
        }
        const float cx[] = {NAN, -5, 0.5f, 7}; /* clamp: NaN stays, lo > hi gives hi */
        float cl[4];
        k->clamp(4, -1, 2, cx, cl);
        assert_true(isnan(cl[0]) && cl[1] == -1 && cl[2] == 0.5f && cl[3] == 2);
        k->clamp(4, 3, 1, cx, cl);
        assert_true(cl[1] == 1 && cl[2] == 1 && cl[3] == 1);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unary_kernels_match_the_reference_at_every_level),
        cmocka_unit_test(test_binary_kernels_match_the_reference_at_every_level),
        cmocka_unit_test(test_pow_scalar_fast_paths_equal_the_tensor_exponent),
        cmocka_unit_test(test_select_matches_the_reference_at_every_level),
        cmocka_unit_test(test_sin_cos_log1p_pow_within_documented_error),
        cmocka_unit_test(test_special_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
