/* The documented accuracy of the math core (docs/simd.md), at every level:
 * exp/log/tanh/erf against double-precision libm over their ranges and at
 * the special values; every activation and its derivative against double
 * formulas written out here; softmax and log-sum-exp stability. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "model/activation.h"
#include "simd/kernels.h"

#define N 200003
static float xs[N], ys[N], zs[N], ws[N];

/* Documented maximum errors (docs/simd.md). */
#define EXP_MAX_REL 1.5e-7
#define LOG_MAX_REL 1.5e-7  /* for |x - 1| > 1e-3 */
#define LOG_MAX_ABS 1.0e-7
#define TANH_MAX_REL 2.0e-7
#define ERF_MAX_ABS 4.0e-7
#define ERF_MAX_REL_SMALL 3.0e-7 /* |x| < 0.5 */

static void sweep(float lo, float hi)
{
    for (int i = 0; i < N; i++)
        xs[i] = lo + (hi - lo) * (float)i / (float)(N - 1);
}

static void test_exp_log_tanh_erf_within_documented_error(void **state)
{
    (void)state;
    for (int isa = 0; isa <= NNL_ISA_AVX512; isa++) {
        const nnl_kernels *k = nnl_kernels_for((nnl_isa)isa);
        if (!k)
            continue;
        const char *name = nnl_isa_name((nnl_isa)isa);
        sweep(-87.3f, 88.7f);
        k->exp(N, xs, ys);
        for (int i = 0; i < N; i++) {
            double r = exp((double)xs[i]);
            if (fabs(ys[i] - r) > EXP_MAX_REL * r)
                fail_msg("%s exp(%.9g) = %.9g, want %.9g", name, (double)xs[i], (double)ys[i], r);
        }
        for (int i = 0; i < N; i++)
            xs[i] = expf(-87.0f + 175.0f * (float)i / (float)(N - 1));
        xs[0] = 1e-40f; /* subnormal */
        k->log(N, xs, ys);
        for (int i = 0; i < N; i++) {
            double r = log((double)xs[i]), e = fabs(ys[i] - r);
            if (e > LOG_MAX_ABS * fmax(1.0, fabs(r)) ||
                (fabs(xs[i] - 1.0) > 1e-3 && e > LOG_MAX_REL * fabs(r)))
                fail_msg("%s log(%.9g) = %.9g, want %.9g", name, (double)xs[i], (double)ys[i], r);
        }
        sweep(-10.0f, 10.0f);
        k->tanh(N, xs, ys);
        k->erf(N, xs, zs);
        for (int i = 0; i < N; i++) {
            double r = tanh((double)xs[i]);
            if (fabs(ys[i] - r) > TANH_MAX_REL * fabs(r) + 1e-45)
                fail_msg("%s tanh(%.9g) = %.9g, want %.9g", name, (double)xs[i], (double)ys[i], r);
            r = erf((double)xs[i]);
            if (fabs(zs[i] - r) > ERF_MAX_ABS ||
                (fabs(xs[i]) < 0.5f && fabs(zs[i] - r) > ERF_MAX_REL_SMALL * fabs(r) + 1e-45))
                fail_msg("%s erf(%.9g) = %.9g, want %.9g", name, (double)xs[i], (double)zs[i], r);
        }
        /* specials */
        const float sx[] = {NAN, INFINITY, -INFINITY, 100.0f, -100.0f, 0.0f, -1.0f, 1e-40f, 1e-30f};
        const size_t ns = sizeof sx / sizeof sx[0];
        float e[16], l[16], t[16], f[16];
        k->exp(ns, sx, e);
        k->log(ns, sx, l);
        k->tanh(ns, sx, t);
        k->erf(ns, sx, f);
        assert_true(isnan(e[0]) && isnan(l[0]) && isnan(t[0]) && isnan(f[0]));
        assert_true(e[1] == INFINITY && e[2] == 0.0f && e[3] == INFINITY && e[4] == 0.0f);
        assert_true(e[5] == 1.0f);
        assert_true(l[1] == INFINITY && isnan(l[2]) && l[5] == -INFINITY && isnan(l[6]));
        assert_true(fabs(l[7] - log(1e-40)) < 1e-5 && fabs(l[8] - log(1e-30)) < 1e-5);
        assert_true(t[1] == 1.0f && t[2] == -1.0f && t[3] == 1.0f && t[4] == -1.0f);
        assert_true(t[5] == 0.0f && fabs(t[8] - 1e-30f) < 1e-36);
        assert_true(f[1] == 1.0f && f[2] == -1.0f && f[5] == 0.0f);
        assert_true(fabs(f[8] - 1.1283791670955126e-30) < 1e-36);
    }
}

/* ---- activations against double formulas ------------------------------- */

static double sigm(double x) { return 1.0 / (1.0 + exp(-x)); }

static double act_ref(int a, double x, double p)
{
    const double sa = 1.6732632423543772, ss = 1.0507009873554805;
    switch (a) {
    case NNL_KACT_RELU: return x > 0 ? x : 0;
    case NNL_KACT_LEAKY_RELU: return x > 0 ? x : p * x;
    case NNL_KACT_ELU: return x > 0 ? x : p * (exp(x) - 1);
    case NNL_KACT_SELU: return ss * (x > 0 ? x : sa * (exp(x) - 1));
    case NNL_KACT_GELU: return 0.5 * x * (1 + erf(x / sqrt(2.0)));
    case NNL_KACT_SIGMOID: return sigm(x);
    case NNL_KACT_HARD_SIGMOID: return fmin(1, fmax(0, x / 6 + 0.5));
    case NNL_KACT_TANH: return tanh(x);
    case NNL_KACT_SOFTPLUS: return log1p(exp(x));
    case NNL_KACT_SOFTSIGN: return x / (1 + fabs(x));
    case NNL_KACT_SWISH: return x * sigm(x);
    default: return x;
    }
}

static double dact_ref(int a, double x, double p)
{
    const double sa = 1.6732632423543772, ss = 1.0507009873554805;
    switch (a) {
    case NNL_KACT_RELU: return x > 0 ? 1 : 0;
    case NNL_KACT_LEAKY_RELU: return x > 0 ? 1 : p;
    case NNL_KACT_ELU: return x > 0 ? 1 : p * exp(x);
    case NNL_KACT_SELU: return x > 0 ? ss : ss * sa * exp(x);
    case NNL_KACT_GELU:
        return 0.5 * (1 + erf(x / sqrt(2.0))) + x * exp(-0.5 * x * x) / 2.5066282746310002;
    case NNL_KACT_SIGMOID: return sigm(x) * (1 - sigm(x));
    case NNL_KACT_HARD_SIGMOID: return fabs(x) < 3 ? 1.0 / 6 : 0;
    case NNL_KACT_TANH: return 1 - tanh(x) * tanh(x);
    case NNL_KACT_SOFTPLUS: return sigm(x);
    case NNL_KACT_SOFTSIGN: return 1 / ((1 + fabs(x)) * (1 + fabs(x)));
    case NNL_KACT_SWISH: return sigm(x) + x * sigm(x) * (1 - sigm(x));
    default: return 1;
    }
}

static void test_activations_match_formulas(void **state)
{
    (void)state;
    enum { M = 4001 };
    for (int isa = 0; isa <= NNL_ISA_AVX512; isa++) {
        const nnl_kernels *k = nnl_kernels_for((nnl_isa)isa);
        if (!k)
            continue;
        for (int a = 0; a < NNL_KACT_COUNT; a++) {
            if (a == NNL_KACT_SOFTMAX)
                continue;
            double p = a == NNL_KACT_LEAKY_RELU ? 0.2 : a == NNL_KACT_ELU ? 0.7 : 1.0;
            for (int i = 0; i < M; i++) {
                xs[i] = -12.0f + 24.0f * (float)i / (float)(M - 1);
                zs[i] = 1.0f;
            }
            k->act_fwd((nnl_kact)a, (float)p, M, xs, ys);
            k->act_bwd((nnl_kact)a, (float)p, M, xs, ys, zs, ws);
            for (int i = 0; i < M; i++) {
                double x = xs[i], r = act_ref(a, x, p), d = dact_ref(a, x, p);
                if (fabs(ys[i] - r) > 2e-6 * fabs(r) + 1e-6)
                    fail_msg("%s %s(%.9g) = %.9g, want %.9g", nnl_isa_name((nnl_isa)isa),
                             nnl_activation_name(a), x, (double)ys[i], r);
                if (fabs(ws[i] - d) > 4e-6 * fabs(d) + 2e-6)
                    fail_msg("%s %s'(%.9g) = %.9g, want %.9g", nnl_isa_name((nnl_isa)isa),
                             nnl_activation_name(a), x, (double)ws[i], d);
            }
        }
    }
}

/* The activations' names (model/activation.h) and the kernel op each
 * one runs: entry i of the table is kernel op i. */
static void test_act_names_round_trip(void **state)
{
    (void)state;
    size_t n;
    const nnl_activation *t = nnl_activations(&n);
    assert_int_equal(n, NNL_ACT_COUNT);
    assert_int_equal(NNL_ACT_COUNT, NNL_KACT_COUNT);
    for (int a = 0; a < NNL_ACT_COUNT; a++) {
        assert_int_equal(nnl_activation_find(nnl_activation_name(a)), a);
        assert_int_equal(t[a].kernel, a);
        assert_int_equal(nnl_act_kernel(a), a);
    }
    assert_int_equal(nnl_activation_find("silu"), NNL_ACT_SWISH);
    assert_int_equal(nnl_activation_find("relu6"), -1);
    assert_int_equal(nnl_activation_find(NULL), -1);
    assert_null(nnl_activation_name(99));
}

/* Large logits do not overflow; rows sum to 1; log-sum-exp matches. */
static void test_softmax_and_logsumexp_are_stable(void **state)
{
    (void)state;
    float x[3 * 5] = {1000, 1001, 1002, 999, 1000.5f, -1000, -1001, -1002, -999, -1000.5f,
                      0, 1, 2, 3, 4};
    float y[15], lse[3], lse0[1];
    for (int isa = 0; isa <= NNL_ISA_AVX512; isa++) {
        const nnl_kernels *k = nnl_kernels_for((nnl_isa)isa);
        if (!k)
            continue;
        k->softmax_rows(3, 5, x, 5, y, 5);
        k->logsumexp_rows(3, 5, x, 5, lse);
        for (int r = 0; r < 3; r++) {
            double m = x[r * 5], s = 0, sy = 0;
            for (int j = 1; j < 5; j++)
                m = fmax(m, x[r * 5 + j]);
            for (int j = 0; j < 5; j++)
                s += exp(x[r * 5 + j] - m);
            for (int j = 0; j < 5; j++) {
                double want = exp(x[r * 5 + j] - m) / s;
                assert_true(fabs(y[r * 5 + j] - want) < 1e-6);
                sy += y[r * 5 + j];
            }
            assert_true(fabs(sy - 1) < 1e-6);
            assert_true(fabs(lse[r] - (m + log(s))) < 1e-6 * fabs(m) + 1e-6);
        }
        k->logsumexp_rows(1, 0, x, 5, lse0);
        assert_true(lse0[0] == -INFINITY);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exp_log_tanh_erf_within_documented_error),
        cmocka_unit_test(test_activations_match_formulas),
        cmocka_unit_test(test_act_names_round_trip),
        cmocka_unit_test(test_softmax_and_logsumexp_are_stable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
