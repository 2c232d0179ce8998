/* GEMM against a double-precision naive reference: every instruction-set
 * level this CPU has, all four transpose combinations, empty, unit, odd and
 * prime sizes, sizes crossing the cache blocks, alpha/beta cases (beta = 0
 * must not read C), leading dimensions larger than the rows, the fused
 * epilogue, identical bits with 1 and 2 threads, and argument errors. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/alloc.h"
#include "core/threads.h"
#include "simd/dispatch.h"
#include "simd/gemm.h"
#include "simd/kernels.h"

static uint32_t lcg = 12345u;
static float frand(void)
{
    lcg = lcg * 1664525u + 1013904223u;
    return (float)((lcg >> 8) & 0xffff) / 32768.0f - 1.0f;
}

typedef struct gcase {
    size_t m, n, k;
    float alpha, beta;
    size_t pad; /* extra columns in every leading dimension */
} gcase;

/* Runs one product at the active level and checks it against the double
 * reference; returns the C it computed (caller frees). */
static float *run_case(nnl_trans ta, nnl_trans tb, gcase g, const nnl_gemm_epilogue *ep)
{
    size_t arows = ta ? g.k : g.m, acols = ta ? g.m : g.k;
    size_t brows = tb ? g.n : g.k, bcols = tb ? g.k : g.n;
    size_t lda = acols + g.pad, ldb = bcols + g.pad, ldc = g.n + g.pad;
    float *a = malloc((arows * lda + 1) * sizeof(float));
    float *b = malloc((brows * ldb + 1) * sizeof(float));
    float *c = malloc((g.m * ldc + 1) * sizeof(float));
    float *c0 = malloc((g.m * ldc + 1) * sizeof(float));
    float *bias = malloc((g.n + 1) * sizeof(float));
    assert_non_null(a), assert_non_null(b), assert_non_null(c), assert_non_null(c0);
    assert_non_null(bias);
    for (size_t i = 0; i < arows * lda; i++)
        a[i] = frand();
    for (size_t i = 0; i < brows * ldb; i++)
        b[i] = frand();
    for (size_t i = 0; i < g.n; i++)
        bias[i] = frand();
    for (size_t i = 0; i < g.m * ldc; i++)
        c0[i] = g.beta == 0.0f ? NAN : frand(); /* beta = 0 must not read C */
    memcpy(c, c0, g.m * ldc * sizeof(float));
    nnl_gemm_epilogue e;
    if (ep) {
        e = *ep;
        e.bias = ep->bias ? bias : NULL;
    }
    nnl_error err;
    assert_int_equal(nnl_gemm_ex(ta, tb, g.m, g.n, g.k, g.alpha, a, lda, b, ldb, g.beta, c,
                                 ldc, ep ? &e : NULL, &err),
                     NNL_OK);
    for (size_t i = 0; i < g.m; i++) {
        for (size_t j = 0; j < g.n; j++) {
            double s = 0.0, abss = 0.0;
            for (size_t p = 0; p < g.k; p++) {
                double av = ta ? a[p * lda + i] : a[i * lda + p];
                double bv = tb ? b[j * ldb + p] : b[p * ldb + j];
                s += av * bv;
                abss += fabs(av * bv);
            }
            double ref = g.alpha * s;
            double mag = fabs(g.alpha) * abss;
            if (g.beta != 0.0f) {
                ref += g.beta * (double)c0[i * ldc + j];
                mag += fabs(g.beta * (double)c0[i * ldc + j]);
            }
            if (ep && ep->bias) {
                ref += bias[j];
                mag += fabs(bias[j]);
            }
            if (ep && ep->act == NNL_KACT_RELU)
                ref = ref > 0 ? ref : 0;
            double got = c[i * ldc + j];
            double tol = 4e-7 * (double)(g.k + 4) * mag + 1e-30;
            if (!(fabs(got - ref) <= tol))
                fail_msg("%s ta=%d tb=%d m=%zu n=%zu k=%zu alpha=%g beta=%g pad=%zu: "
                         "C[%zu][%zu] = %.9g, want %.9g (tol %.3g)",
                         nnl_isa_name(nnl_isa_active()), ta, tb, g.m, g.n, g.k,
                         (double)g.alpha, (double)g.beta, g.pad, i, j, got, ref, tol);
        }
        /* the padding columns of C are never written */
        for (size_t j = g.n; j < ldc; j++)
            assert_memory_equal(&c[i * ldc + j], &c0[i * ldc + j], sizeof(float));
    }
    free(a), free(b), free(c0), free(bias);
    return c;
}

static const gcase cases[] = {
    {0, 0, 0, 1, 0, 0},      {1, 1, 1, 1, 0, 0},      {0, 5, 3, 1, 0, 0},
    {5, 0, 3, 1, 1, 0},      {3, 5, 0, 1, 0, 0},      {3, 5, 0, 2, 0.5f, 1},
    {1, 7, 13, 1, 0, 0},     {13, 1, 7, 1, 1, 2},     {7, 13, 1, -1, 0, 0},
    {2, 3, 5, 1, 0, 0},      {17, 31, 29, 0.5f, 0, 3}, {37, 41, 43, 1, 1, 0},
    {64, 64, 64, 1, 0, 0},   {97, 101, 103, -1.5f, 0.25f, 1},
    {31, 33, 257, 1, 0, 5},  {130, 67, 300, 1, 1, 0},  {211, 47, 19, 2, 0, 0},
    {5, 2100, 9, 1, 0.5f, 0}, {29, 30, 31, 0, 2, 1},   {29, 30, 31, 0, 0, 0},
    {12, 32, 8, 1, 0, 0},    {6, 16, 600, 1, 1, 1},    {128, 10, 128, 1, 0, 0},
    {300, 3, 40, 0.5f, 1, 2}, {2, 77, 5, 1, 0.5f, 0},
    /* im2col-like: many rows, k = 9 or 27, n = 9 / 27 / 32 / 64 */
    {1001, 32, 9, 1, 0, 0},  {333, 27, 32, 1, 0.5f, 1}, {517, 64, 27, 2, 0, 0},
    {203, 9, 64, 1, 1, 0},
    /* k cut into several direct-path blocks (k > 384) */
    {23, 45, 800, 1, 0.5f, 1}, {9, 70, 1001, -1, 0, 0},
    /* a long reduction into few rows: cut into k slices (dW of a conv) */
    {13, 33, 6000, 1, 0.5f, 1},
};

static void all_cases_at(nnl_isa isa)
{
    nnl_error err;
    assert_int_equal(nnl_dispatch_set(isa, &err), NNL_OK);
    for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ci++)
        for (int t = 0; t < 4; t++)
            free(run_case((nnl_trans)(t >> 1), (nnl_trans)(t & 1), cases[ci], NULL));
}

static void test_gemm_matches_reference_scalar(void **state)
{
    (void)state;
    all_cases_at(NNL_ISA_SCALAR);
}

static void test_gemm_matches_reference_sse2(void **state)
{
    (void)state;
    if (!nnl_kernels_for(NNL_ISA_SSE2))
        skip();
    all_cases_at(NNL_ISA_SSE2);
}

static void test_gemm_matches_reference_avx2(void **state)
{
    (void)state;
    if (!nnl_kernels_for(NNL_ISA_AVX2))
        skip();
    all_cases_at(NNL_ISA_AVX2);
}

static void test_gemm_matches_reference_avx512(void **state)
{
    (void)state;
    if (!nnl_kernels_for(NNL_ISA_AVX512))
        skip();
    all_cases_at(NNL_ISA_AVX512);
}

/* Same inputs, 1 and 2 threads: identical bits at every level. */
static void test_gemm_bits_do_not_depend_on_threads(void **state)
{
    (void)state;
    nnl_error err;
    const gcase big[] = {{97, 101, 103, 1, 0.5f, 1}, {300, 40, 270, 1, 0, 0},
                         {40, 300, 270, -1, 1, 0}, {263, 259, 300, 1, 0, 0},
                         {9001, 27, 17, 1, 0, 0},  {3001, 37, 41, 1, 0.5f, 1},
                         {601, 40, 450, 1, 0, 0},  {9, 40, 9000, 1, 0, 0},
                         {27, 32, 5001, 1, 1, 1}};
    for (int isa = 0; isa <= NNL_ISA_AVX512; isa++) {
        if (!nnl_kernels_for((nnl_isa)isa))
            continue;
        assert_int_equal(nnl_dispatch_set((nnl_isa)isa, &err), NNL_OK);
        for (size_t ci = 0; ci < sizeof big / sizeof big[0]; ci++) {
            for (int t = 0; t < 4; t++) {
                nnl_trans ta = (nnl_trans)(t >> 1), tb = (nnl_trans)(t & 1);
                uint32_t seed = lcg;
                assert_int_equal(nnl_threads_set(1, &err), NNL_OK);
                float *c1 = run_case(ta, tb, big[ci], NULL);
                lcg = seed;
                assert_int_equal(nnl_threads_set(2, &err), NNL_OK);
                float *c2 = run_case(ta, tb, big[ci], NULL);
                lcg = seed;
                assert_int_equal(nnl_threads_set(3, &err), NNL_OK);
                float *c3 = run_case(ta, tb, big[ci], NULL);
                size_t bytes = big[ci].m * (big[ci].n + big[ci].pad) * sizeof(float);
                assert_memory_equal(c1, c2, bytes);
                assert_memory_equal(c1, c3, bytes);
                free(c1), free(c2), free(c3);
            }
        }
    }
    assert_int_equal(nnl_threads_set(2, &err), NNL_OK);
}

/* Bias + relu fused into the product equals the product then the ops. */
static void test_gemm_epilogue_bias_relu(void **state)
{
    (void)state;
    nnl_error err;
    nnl_gemm_epilogue ep = {.bias = (const float *)1, .act = NNL_KACT_RELU};
    const gcase cs[] = {{128, 10, 128, 1, 0, 0}, {33, 70, 300, 1, 0.5f, 2}, {1, 1, 1, 1, 0, 0},
                        {5, 7, 0, 1, 0, 0}};
    for (int isa = 0; isa <= NNL_ISA_AVX512; isa++) {
        if (!nnl_kernels_for((nnl_isa)isa))
            continue;
        assert_int_equal(nnl_dispatch_set((nnl_isa)isa, &err), NNL_OK);
        for (size_t ci = 0; ci < sizeof cs / sizeof cs[0]; ci++)
            for (int t = 0; t < 4; t++)
                free(run_case((nnl_trans)(t >> 1), (nnl_trans)(t & 1), cs[ci], &ep));
    }
}

/* Softmax epilogue: every row sums to 1 and follows the order of logits. */
static void test_gemm_epilogue_softmax_rows(void **state)
{
    (void)state;
    float a[6 * 4], b[4 * 5], c[6 * 5], plain[6 * 5];
    for (int i = 0; i < 24; i++)
        a[i] = frand();
    for (int i = 0; i < 20; i++)
        b[i] = frand();
    nnl_error err;
    nnl_gemm_epilogue ep = {.act = NNL_KACT_SOFTMAX};
    assert_int_equal(nnl_gemm(NNL_NOTRANS, NNL_NOTRANS, 6, 5, 4, 1, a, 4, b, 5, 0, plain, 5, &err),
                     NNL_OK);
    assert_int_equal(nnl_gemm_ex(NNL_NOTRANS, NNL_NOTRANS, 6, 5, 4, 1, a, 4, b, 5, 0, c, 5, &ep,
                                 &err),
                     NNL_OK);
    for (int i = 0; i < 6; i++) {
        double s = 0, z = 0;
        for (int j = 0; j < 5; j++)
            z += exp((double)plain[i * 5 + j]);
        for (int j = 0; j < 5; j++) {
            s += c[i * 5 + j];
            assert_true(fabs(c[i * 5 + j] - exp((double)plain[i * 5 + j]) / z) < 1e-6);
        }
        assert_true(fabs(s - 1.0) < 1e-5);
    }
}

static void test_gemm_rejects_bad_arguments(void **state)
{
    (void)state;
    float a[16] = {0}, b[16] = {0}, c[16] = {0};
    nnl_error err;
    assert_int_equal(nnl_gemm(NNL_NOTRANS, NNL_NOTRANS, 2, 2, 3, 1, a, 2, b, 2, 0, c, 2, &err),
                     NNL_ERR_ARG);
    assert_non_null(strstr(err.msg, "lda"));
    assert_int_equal(nnl_gemm(NNL_NOTRANS, NNL_TRANS, 2, 2, 3, 1, a, 3, b, 2, 0, c, 2, &err),
                     NNL_ERR_ARG);
    assert_non_null(strstr(err.msg, "ldb"));
    assert_int_equal(nnl_gemm(NNL_TRANS, NNL_NOTRANS, 2, 4, 3, 1, a, 2, b, 4, 0, c, 3, &err),
                     NNL_ERR_ARG);
    assert_non_null(strstr(err.msg, "ldc"));
    nnl_gemm_epilogue ep = {.act = NNL_KACT_COUNT};
    assert_int_equal(nnl_gemm_ex(NNL_NOTRANS, NNL_NOTRANS, 2, 2, 2, 1, a, 2, b, 2, 0, c, 2, &ep,
                                 &err),
                     NNL_ERR_ARG);
}

/* A failing allocator gives NNL_ERR_NOMEM and leaves nothing allocated. */
static void test_gemm_reports_out_of_memory(void **state)
{
    (void)state;
    /* Two products too large to pack on the stack: 520^3 takes the packed
     * path (A and B packed), 256^3 with B transposed the direct path,
     * which copies op(B) once. */
    const struct {
        size_t n;
        nnl_trans ta, tb;
    } v[2] = {{520, NNL_TRANS, NNL_NOTRANS}, {256, NNL_NOTRANS, NNL_TRANS}};
    for (int i = 0; i < 2; i++) {
        size_t n = v[i].n;
        nnl_trans ta = v[i].ta, tb = v[i].tb;
        float *a = calloc(n * n, sizeof(float)), *b = calloc(n * n, sizeof(float));
        float *c = calloc(n * n, sizeof(float));
        assert_non_null(a), assert_non_null(b), assert_non_null(c);
        nnl_error err;
        nnl_gemm_release_workspace();
        long live = nnl_alloc_live();
        nnl_alloc_fail_after(0);
        nnl_status st = nnl_gemm(ta, tb, n, n, n, 1, a, n, b, n, 0, c, n, &err);
        nnl_alloc_fail_reset();
        assert_int_equal(st, NNL_ERR_NOMEM);
        assert_non_null(strstr(err.msg, "gemm"));
        assert_int_equal(nnl_alloc_live(), live);
        /* the workspace is kept between calls and released on request */
        a[0] = b[0] = 2.0f;
        assert_int_equal(nnl_gemm(ta, tb, n, n, n, 1, a, n, b, n, 0, c, n, &err), NNL_OK);
        assert_int_equal(nnl_alloc_live(), live + 1);
        assert_int_equal(nnl_gemm(ta, tb, n, n, n, 1, a, n, b, n, 0, c, n, &err), NNL_OK);
        assert_int_equal(nnl_alloc_live(), live + 1);
        assert_true(c[0] == 4.0f && c[1] == 0.0f);
        nnl_gemm_release_workspace();
        assert_int_equal(nnl_alloc_live(), live);
        free(a), free(b), free(c);
    }
}

/* Short reductions (k = 1..39 odd, as 3x3 convolutions on few channels
 * make), rows that are no multiple of any tile height and columns that
 * are no multiple of a vector (conv dX has n = 9 or 27), every transpose
 * and alpha/beta case, at every level. */
static void test_gemm_short_k_narrow_n(void **state)
{
    (void)state;
    nnl_error err;
    const size_t ms[] = {1, 7, 9, 29};
    const size_t ns[] = {1, 9, 17, 27, 33, 47};
    const float ab[][2] = {{1, 0}, {-0.5f, 0}, {1, 1}, {2, 0.25f}};
    int v = 0;
    for (int isa = 0; isa <= NNL_ISA_AVX512; isa++) {
        if (!nnl_kernels_for((nnl_isa)isa))
            continue;
        assert_int_equal(nnl_dispatch_set((nnl_isa)isa, &err), NNL_OK);
        for (size_t k = 1; k < 40; k += 2)
            for (size_t mi = 0; mi < sizeof ms / sizeof ms[0]; mi++)
                for (size_t ni = 0; ni < sizeof ns / sizeof ns[0]; ni++)
                    for (int t = 0; t < 4; t++, v++) {
                        gcase g = {ms[mi], ns[ni], k, ab[v % 4][0], ab[v % 4][1],
                                   (size_t)(v % 3)};
                        free(run_case((nnl_trans)(t >> 1), (nnl_trans)(t & 1), g, NULL));
                    }
    }
}

/* The table's direct kernel (A read in place) against a double product
 * at every level: exact-size buffers, so reading B or C past column n or
 * past the last row is an overflow that the sanitizer build reports; the
 * padding columns of C are never written; beta = 0 never reads C. */
static void check_direct(const nnl_kernels *kt, int ta, size_t m, size_t n, size_t kc,
                         size_t pad, float alpha, float beta)
{
    /* A stored m x kc, or kc x m when ta */
    size_t lda = (ta ? m : kc) + pad, ldb = n + pad, ldc = n + pad;
    size_t asz = ta ? (kc ? (kc - 1) * lda + m : 0) : (m - 1) * lda + kc, bsz = kc ? (kc - 1) * ldb + n : 0;
    size_t csz = (m - 1) * ldc + n;
    float *a = malloc((asz + 1) * sizeof(float)), *b = malloc((bsz + 1) * sizeof(float));
    float *c = malloc(csz * sizeof(float)), *c0 = malloc(csz * sizeof(float));
    assert_non_null(a), assert_non_null(b), assert_non_null(c), assert_non_null(c0);
    for (size_t i = 0; i < asz; i++)
        a[i] = frand();
    for (size_t i = 0; i < bsz; i++)
        b[i] = frand();
    for (size_t i = 0; i < csz; i++)
        c0[i] = beta == 0.0f ? NAN : frand();
    memcpy(c, c0, csz * sizeof(float));
    kt->gemm_dkr(ta, m, n, kc, a, lda, b, ldb, c, ldc, alpha, beta);
    for (size_t i = 0; i < m; i++) {
        for (size_t j = 0; j < n; j++) {
            double s = 0, mag = 0;
            for (size_t p = 0; p < kc; p++) {
                double x = (double)(ta ? a[p * lda + i] : a[i * lda + p]) * b[p * ldb + j];
                s += x, mag += fabs(x);
            }
            double ref = alpha * s, cv = c0[i * ldc + j];
            mag = fabs(alpha) * mag;
            if (beta != 0.0f)
                ref += beta * cv, mag += fabs(beta * cv);
            double got = c[i * ldc + j], tol = 4e-7 * (double)(kc + 4) * mag + 1e-30;
            if (!(fabs(got - ref) <= tol))
                fail_msg("%s direct ta=%d m=%zu n=%zu k=%zu pad=%zu alpha=%g beta=%g: "
                         "C[%zu][%zu] = %.9g, want %.9g", nnl_isa_name(kt->isa), ta, m, n, kc, pad,
                         (double)alpha, (double)beta, i, j, got, ref);
        }
        for (size_t j = n; j < ldc && i + 1 < m; j++)
            assert_memory_equal(&c[i * ldc + j], &c0[i * ldc + j], sizeof(float));
    }
    free(a), free(b), free(c), free(c0);
}

static void test_gemm_direct_kernel_every_level(void **state)
{
    (void)state;
    const size_t ms[] = {1, 2, 3, 5, 7, 8, 9, 11, 13, 16, 17, 23, 37};
    int v = 0;
    for (int isa = 0; isa <= NNL_ISA_AVX512; isa++) {
        const nnl_kernels *kt = nnl_kernels_for((nnl_isa)isa);
        if (!kt)
            continue;
        assert_non_null(kt->gemm_dkr);
        assert_true(kt->gemm_dnr >= 1);
        for (size_t n = 1; n <= (size_t)kt->gemm_dnr; n++)
            for (size_t mi = 0; mi < sizeof ms / sizeof ms[0]; mi++) {
                size_t kc = (size_t)(v * 7 % 41); /* 0..40, odd and even */
                float alpha = v % 5 == 0 ? -1.5f : 1.0f;
                float beta = v % 3 == 0 ? 0.0f : v % 3 == 1 ? 1.0f : 0.5f;
                for (int ta = 0; ta < 2; ta++)
                    check_direct(kt, ta, ms[mi], n, kc, (size_t)(v % 4), alpha, beta);
                v++;
            }
        /* longer reductions */
        for (int ta = 0; ta < 2; ta++) {
            check_direct(kt, ta, 19, (size_t)kt->gemm_dnr, 300, 1, 1, 0);
            check_direct(kt, ta, 10, (size_t)kt->gemm_dnr - 1 + (kt->gemm_dnr == 1), 97, 0, 1,
                         1);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gemm_matches_reference_scalar),
        cmocka_unit_test(test_gemm_matches_reference_sse2),
        cmocka_unit_test(test_gemm_matches_reference_avx2),
        cmocka_unit_test(test_gemm_matches_reference_avx512),
        cmocka_unit_test(test_gemm_bits_do_not_depend_on_threads),
        cmocka_unit_test(test_gemm_epilogue_bias_relu),
        cmocka_unit_test(test_gemm_epilogue_softmax_rows),
        cmocka_unit_test(test_gemm_rejects_bad_arguments),
        cmocka_unit_test(test_gemm_reports_out_of_memory),
        cmocka_unit_test(test_gemm_short_k_narrow_n),
        cmocka_unit_test(test_gemm_direct_kernel_every_level),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
