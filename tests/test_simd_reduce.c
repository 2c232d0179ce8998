/* The tensor-reduction kernels (rsum_d, csum_d, row_ext, col_ext of
 * kern_reduce.h) at every SIMD level this CPU has: bitwise equal to the
 * scalar reference on lengths 0..70 and two large ones, inputs one float
 * past an aligned address, NaN, infinities and ties mixed in; and the
 * reference itself against naive loops (a sequential double sum within
 * 1e-12 relative; the first extreme and the first NaN exactly). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "simd/kernels.h"

#define NMAX 5000
static const size_t lengths_big[] = {1000, 4099};

static uint32_t lcg = 4242u;
static float frand(float lo, float hi)
{
    lcg = lcg * 1664525u + 1013904223u;
    return lo + (hi - lo) * (float)(lcg >> 8) / 16777216.0f;
}

static float xs[NMAX + 16] __attribute__((aligned(64)));
static float *const X = xs + 1; /* unaligned on purpose */

/* Values in [lo, hi]; ties when coarse (rounded to a few levels);
 * specials about one in `every` elements (0: none). */
static void fill(size_t n, float lo, float hi, int coarse, int every)
{
    static const float sp[] = {NAN, INFINITY, -INFINITY, 0.0f, -0.0f, 1e30f, -1e30f};
    for (size_t i = 0; i < n; i++) {
        float v = frand(lo, hi);
        X[i] = coarse ? floorf(v) : v;
        if (every && (lcg >> 24) % (unsigned)every == 0)
            X[i] = sp[(lcg >> 9) % (sizeof sp / sizeof sp[0])];
    }
}

static int same_double(double a, double b)
{
    return (isnan(a) && isnan(b)) || memcmp(&a, &b, sizeof a) == 0;
}

static size_t len_at(size_t i) { return i <= 70 ? i : lengths_big[i - 71]; }

static void test_rsum_d_bitwise_and_accurate(void **s)
{
    (void)s;
    const nnl_kernels *ref = nnl_kernels_for(NNL_ISA_SCALAR);
    for (size_t li = 0; li < 73; li++) {
        size_t n = len_at(li);
        for (int pass = 0; pass < 2; pass++) {
            fill(n, pass ? -3.0f : -10.0f, pass ? 3.0f : 10.0f, 0, pass ? 0 : 9);
            for (int mode = NNL_KRED_SUM; mode <= NNL_KRED_PROD; mode++) {
                /* products of many values overflow: scale them near 1 */
                if (mode == NNL_KRED_PROD && pass)
                    for (size_t i = 0; i < n; i++)
                        X[i] = 1.0f + X[i] / 64.0f;
                double want = ref->rsum_d(mode, n, X, 0.25);
                if (pass) { /* finite inputs: against a naive double loop */
                    double naive = mode == NNL_KRED_PROD ? 1.0 : 0.0;
                    for (size_t i = 0; i < n; i++) {
                        double v = X[i];
                        if (mode == NNL_KRED_ABS)
                            v = fabs(v);
                        if (mode == NNL_KRED_SQDEV)
                            v = (v - 0.25) * (v - 0.25);
                        naive = mode == NNL_KRED_PROD ? naive * v : naive + v;
                    }
                    if (!(fabs(want - naive) <= 1e-12 * (1.0 + fabs(naive))))
                        fail_msg("rsum_d mode %d n=%zu: %.17g, naive %.17g", mode, n, want,
                                 naive);
                }
                for (int isa = NNL_ISA_SSE2; isa <= NNL_ISA_AVX512; isa++) {
                    const nnl_kernels *k = nnl_kernels_for((nnl_isa)isa);
                    if (!k)
                        continue;
                    double got = k->rsum_d(mode, n, X, 0.25);
                    if (!same_double(got, want))
                        fail_msg("rsum_d mode %d at %s, n=%zu: %.17g, reference %.17g", mode,
                                 nnl_isa_name((nnl_isa)isa), n, got, want);
                }
            }
        }
    }
    assert_true(ref->rsum_d(NNL_KRED_SUM, 0, X, 0) == 0.0);
    assert_true(ref->rsum_d(NNL_KRED_PROD, 0, X, 0) == 1.0);
}

static void test_csum_d_bitwise(void **s)
{
    (void)s;
    static double c[NMAX], a0[NMAX], a1[NMAX], a2[NMAX];
    const nnl_kernels *ref = nnl_kernels_for(NNL_ISA_SCALAR);
    for (size_t li = 0; li < 73; li++) {
        size_t n = len_at(li);
        fill(n, -5, 5, 0, 9);
        for (size_t i = 0; i < n; i++) {
            c[i] = (double)frand(-1, 1);
            a0[i] = (double)frand(-2, 2);
        }
        for (int mode = NNL_KRED_SUM; mode <= NNL_KRED_PROD; mode++) {
            memcpy(a1, a0, n * sizeof(double));
            ref->csum_d(mode, n, X, c, a1);
            for (size_t i = 0; i < n; i++) { /* the reference means what it says */
                double v = X[i];
                double want = mode == NNL_KRED_ABS     ? a0[i] + fabs(v)
                              : mode == NNL_KRED_SQDEV ? a0[i] + (v - c[i]) * (v - c[i])
                              : mode == NNL_KRED_PROD  ? a0[i] * v
                                                       : a0[i] + v;
                if (!same_double(a1[i], want))
                    fail_msg("csum_d reference mode %d n=%zu element %zu", mode, n, i);
            }
            for (int isa = NNL_ISA_SSE2; isa <= NNL_ISA_AVX512; isa++) {
                const nnl_kernels *k = nnl_kernels_for((nnl_isa)isa);
                if (!k)
                    continue;
                memcpy(a2, a0, n * sizeof(double));
                k->csum_d(mode, n, X, c, a2);
                for (size_t i = 0; i < n; i++)
                    if (!same_double(a1[i], a2[i]))
                        fail_msg("csum_d mode %d at %s, n=%zu: element %zu", mode,
                                 nnl_isa_name((nnl_isa)isa), n, i);
            }
        }
    }
}

/* The first extreme, or the first NaN: the meaning of row_ext. */
static size_t naive_ext(int want_min, size_t n, const float *x)
{
    size_t best = 0;
    for (size_t i = 0; i < n; i++) {
        if (isnan(x[best]))
            break;
        if (isnan(x[i]) || (want_min ? x[i] < x[best] : x[i] > x[best]))
            best = i;
    }
    return best;
}

static void test_row_ext_first_extreme_and_nan(void **s)
{
    (void)s;
    for (size_t li = 1; li < 73; li++) {
        size_t n = len_at(li);
        for (int pass = 0; pass < 3; pass++) {
            /* coarse values: many ties; pass 1 with NaN; pass 2 all -inf */
            fill(n, -4, 4, 1, pass == 1 ? 7 : 0);
            if (pass == 2)
                for (size_t i = 0; i < n; i++)
                    X[i] = i % 3 ? -INFINITY : INFINITY;
            for (int want_min = 0; want_min < 2; want_min++) {
                size_t want = naive_ext(want_min, n, X);
                for (int isa = NNL_ISA_SCALAR; isa <= NNL_ISA_AVX512; isa++) {
                    const nnl_kernels *k = nnl_kernels_for((nnl_isa)isa);
                    if (!k)
                        continue;
                    size_t got = k->row_ext(want_min, n, X);
                    if (got != want)
                        fail_msg("row_ext min=%d at %s, n=%zu pass %d: %zu, want %zu",
                                 want_min, nnl_isa_name((nnl_isa)isa), n, pass, got, want);
                }
            }
        }
    }
}

static void test_col_ext_rule(void **s)
{
    (void)s;
    static float b0[NMAX], b1[NMAX], b2[NMAX];
    static int32_t g0[NMAX], g1[NMAX], g2[NMAX];
    for (size_t li = 0; li < 73; li++) {
        size_t n = len_at(li);
        fill(n, -3, 3, 1, 6);
        for (size_t i = 0; i < n; i++) {
            b0[i] = floorf(frand(-3, 3));
            if (i % 11 == 5)
                b0[i] = NAN;
            g0[i] = (int32_t)(i % 7);
        }
        for (int want_min = 0; want_min < 2; want_min++) {
            for (size_t i = 0; i < n; i++) { /* the rule, element by element */
                float v = X[i], b = b0[i];
                int take = !isnan(b) && (isnan(v) || (want_min ? v < b : v > b));
                b1[i] = take ? v : b;
                g1[i] = take ? 99 : g0[i];
            }
            for (int isa = NNL_ISA_SCALAR; isa <= NNL_ISA_AVX512; isa++) {
                const nnl_kernels *k = nnl_kernels_for((nnl_isa)isa);
                if (!k)
                    continue;
                memcpy(b2, b0, n * sizeof(float));
                memcpy(g2, g0, n * sizeof(int32_t));
                k->col_ext(want_min, n, X, 99, b2, g2);
                for (size_t i = 0; i < n; i++)
                    if (g2[i] != g1[i] || !(b2[i] == b1[i] || (isnan(b2[i]) && isnan(b1[i]))))
                        fail_msg("col_ext min=%d at %s, n=%zu: element %zu", want_min,
                                 nnl_isa_name((nnl_isa)isa), n, i);
            }
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rsum_d_bitwise_and_accurate),
        cmocka_unit_test(test_csum_d_bitwise),
        cmocka_unit_test(test_row_ext_first_extreme_and_nan),
        cmocka_unit_test(test_col_ext_rule),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
