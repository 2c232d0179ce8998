/* Every element-wise, row, optimizer and dropout kernel at every SIMD level this CPU
 * has, against the scalar reference table: lengths 0..70 and two large
 * ones, inputs starting one float past an aligned address, NaN and Inf
 * mixed in. Kernels documented as bitwise equal must be; the others must
 * agree within the tolerances of docs/simd.md, with NaN where the
 * reference has NaN and the same infinities. */
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

#define NMAX 16800
static const size_t big_lengths[] = {1000, 4099};

static uint32_t lcg = 777u;
static float frand(float lo, float hi)
{
    lcg = lcg * 1664525u + 1013904223u;
    return lo + (hi - lo) * (float)(lcg >> 8) / 16777216.0f;
}

/* Buffers with one float of slack in front so kernels see unaligned data. */
typedef struct bufs {
    float *x, *y, *z, *w; /* inputs (x, y, z, w) */
    float *r1, *r2, *s1, *s2, *t1, *t2; /* outputs: reference / level */
} bufs;
static float store[10][NMAX + 16] __attribute__((aligned(64)));
static bufs B = {store[0] + 1, store[1] + 1, store[2] + 1, store[3] + 1, store[4] + 1,
                 store[5] + 1, store[6] + 1, store[7] + 1, store[8] + 1, store[9] + 1};

/* Fills p with uniform values in [lo, hi]; with specials, about one in
 * nine elements is NaN, +-inf, +-0, or a huge/tiny value. */
static void fill(float *p, size_t n, float lo, float hi, int specials)
{
    static const float sp[] = {NAN, INFINITY, -INFINITY, 0.0f, -0.0f, 1e30f, -1e30f, 1e-40f, 90.0f,
                               -100.0f};
    for (size_t i = 0; i < n; i++) {
        p[i] = frand(lo, hi);
        if (specials && (lcg >> 27) % 9 == 0)
            p[i] = sp[(lcg >> 13) % (sizeof sp / sizeof sp[0])];
    }
}

static const char *cur_kernel, *cur_isa;
static size_t cur_n;

/* got must equal ref within abs + rel*|ref|, NaN exactly where ref is NaN,
 * infinities equal. tol 0 means bitwise equal (any NaN matches NaN). */
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
            ok = memcmp(&r, &g, sizeof r) == 0 || (r == 0 && g == 0);
        else
            ok = fabs((double)g - (double)r) <= abs_tol + rel * fabs((double)r);
        if (!ok)
            fail_msg("%s at %s, n=%zu: element %zu is %.9g, reference %.9g", cur_kernel, cur_isa,
                     cur_n, i, (double)g, (double)r);
    }
}

/* Calls body(ref, level, n) for every level above scalar and every length. */
typedef void (*check_fn)(const nnl_kernels *ref, const nnl_kernels *k, size_t n);
static void for_levels(const char *name, check_fn body)
{
    const nnl_kernels *ref = nnl_kernels_for(NNL_ISA_SCALAR);
    assert_non_null(ref);
    cur_kernel = name;
    int levels = 0;
    for (int isa = NNL_ISA_SSE2; isa <= NNL_ISA_AVX512; isa++) {
        const nnl_kernels *k = nnl_kernels_for((nnl_isa)isa);
        if (!k)
            continue;
        levels++;
        assert_int_equal(k->isa, isa);
        cur_isa = nnl_isa_name((nnl_isa)isa);
        for (size_t n = 0; n <= 70 + 2; n++) {
            cur_n = n <= 70 ? n : big_lengths[n - 71];
            body(ref, k, cur_n);
        }
    }
    /* the reference itself must also run on these inputs */
    cur_isa = "scalar";
    cur_n = 67;
    body(ref, ref, cur_n);
    (void)levels;
}

/* ---- element-wise arithmetic: bitwise ---------------------------------- */

static void chk_binary(const nnl_kernels *ref, const nnl_kernels *k, size_t n)
{
    fill(B.x, n, -10, 10, 1);
    fill(B.y, n, -10, 10, 1);
    void (*const *pairs[4][2])(size_t, const float *, const float *, float *) = {
        {&ref->add, &k->add}, {&ref->sub, &k->sub}, {&ref->mul, &k->mul}, {&ref->div, &k->div}};
    for (int op = 0; op < 4; op++) {
        (*pairs[op][0])(n, B.x, B.y, B.r1);
        (*pairs[op][1])(n, B.x, B.y, B.r2);
        expect_close(B.r1, B.r2, n, 0, 0);
        /* in place: y == a */
        memcpy(B.s2, B.x, n * sizeof(float));
        (*pairs[op][1])(n, B.s2, B.y, B.s2);
        expect_close(B.r1, B.s2, n, 0, 0);
    }
}

static void chk_scale_axpy(const nnl_kernels *ref, const nnl_kernels *k, size_t n)
{
    fill(B.x, n, -10, 10, 1);
    fill(B.y, n, -10, 10, 1);
    ref->scale(n, -1.7f, B.x, B.r1);
    k->scale(n, -1.7f, B.x, B.r2);
    expect_close(B.r1, B.r2, n, 0, 0);
    ref->add_scalar(n, 0.3f, B.x, B.r1);
    k->add_scalar(n, 0.3f, B.x, B.r2);
    expect_close(B.r1, B.r2, n, 0, 0);
    memcpy(B.r1, B.y, n * sizeof(float));
    memcpy(B.r2, B.y, n * sizeof(float));
    ref->axpy(n, 0.37f, B.x, B.r1);
    k->axpy(n, 0.37f, B.x, B.r2);
    expect_close(B.r1, B.r2, n, 0, 0);
}

static void chk_bias_colsum(const nnl_kernels *ref, const nnl_kernels *k, size_t n)
{
    size_t rows = 3, ld = n + 2;
    fill(B.x, rows * ld, -5, 5, 1);
    fill(B.y, n, -5, 5, 0);
    memcpy(B.r1, B.x, rows * ld * sizeof(float));
    memcpy(B.r2, B.x, rows * ld * sizeof(float));
    ref->bias_rows(rows, n, B.y, B.r1, ld);
    k->bias_rows(rows, n, B.y, B.r2, ld);
    expect_close(B.r1, B.r2, rows * ld, 0, 0);
    ref->col_sum(rows, n, B.x, ld, B.s1);
    k->col_sum(rows, n, B.x, ld, B.s2);
    expect_close(B.s1, B.s2, n, 0, 0);
}

/* ---- vector math and activations: close --------------------------------- */

static void chk_math(const nnl_kernels *ref, const nnl_kernels *k, size_t n)
{
    void (*const *fns[4][2])(size_t, const float *, float *) = {
        {&ref->exp, &k->exp}, {&ref->log, &k->log}, {&ref->tanh, &k->tanh}, {&ref->erf, &k->erf}};
    const float lo[4] = {-100, -1, -12, -5}, hi[4] = {100, 1e6f, 12, 5};
    for (int f = 0; f < 4; f++) {
        fill(B.x, n, lo[f], hi[f], 1);
        (*fns[f][0])(n, B.x, B.r1);
        (*fns[f][1])(n, B.x, B.r2);
        expect_close(B.r1, B.r2, n, 2e-6, 1e-37);
    }
}

static void chk_act(const nnl_kernels *ref, const nnl_kernels *k, size_t n)
{
    for (int a = 0; a < NNL_KACT_COUNT; a++) {
        if (a == NNL_KACT_SOFTMAX)
            continue;
        float p = a == NNL_KACT_LEAKY_RELU ? 0.2f : 1.0f;
        fill(B.x, n, -8, 8, 1);
        fill(B.z, n, -2, 2, 0); /* dy */
        ref->act_fwd((nnl_kact)a, p, n, B.x, B.r1);
        k->act_fwd((nnl_kact)a, p, n, B.x, B.r2);
        expect_close(B.r1, B.r2, n, 4e-6, 2e-7);
        ref->act_bwd((nnl_kact)a, p, n, B.x, B.r1, B.z, B.s1);
        k->act_bwd((nnl_kact)a, p, n, B.x, B.r1, B.z, B.s2);
        expect_close(B.s1, B.s2, n, 4e-6, 2e-7);
        /* in place: y == x and dx == dy */
        memcpy(B.t2, B.x, n * sizeof(float));
        k->act_fwd((nnl_kact)a, p, n, B.t2, B.t2);
        expect_close(B.r2, B.t2, n, 0, 0);
        memcpy(B.t2, B.z, n * sizeof(float));
        k->act_bwd((nnl_kact)a, p, n, B.x, B.r1, B.t2, B.t2);
        expect_close(B.s2, B.t2, n, 0, 0);
    }
}

/* ---- rows: softmax, log-sum-exp, reductions ----------------------------- */

static void chk_rows(const nnl_kernels *ref, const nnl_kernels *k, size_t n)
{
    size_t rows = 4, ld = n + 3;
    fill(B.x, rows * ld, -20, 20, 0);
    if (n > 2) { /* row 1: an infinity; row 2: a NaN; row 3: all -inf */
        B.x[ld + n / 2] = INFINITY;
        B.x[2 * ld + 1] = NAN;
        for (size_t i = 0; i < n; i++)
            B.x[3 * ld + i] = -INFINITY;
    }
    ref->softmax_rows(rows, n, B.x, ld, B.r1, ld);
    k->softmax_rows(rows, n, B.x, ld, B.r2, ld);
    for (size_t r = 0; r < rows; r++)
        expect_close(B.r1 + r * ld, B.r2 + r * ld, n, 1e-5, 1e-9);
    ref->logsumexp_rows(rows, n, B.x, ld, B.s1);
    k->logsumexp_rows(rows, n, B.x, ld, B.s2);
    expect_close(B.s1, B.s2, rows, 1e-6, 1e-6);
    ref->row_max(rows, n, B.x, ld, B.s1);
    k->row_max(rows, n, B.x, ld, B.s2);
    expect_close(B.s1, B.s2, rows, 0, 0);
    size_t i1[4], i2[4];
    ref->row_argmax(rows, n, B.x, ld, i1);
    k->row_argmax(rows, n, B.x, ld, i2);
    for (size_t r = 0; r < rows; r++)
        assert_int_equal(i1[r], i2[r]);
    ref->row_sum(rows, n, B.x, ld, B.s1);
    k->row_sum(rows, n, B.x, ld, B.s2);
    expect_close(B.s1, B.s2, rows, 1e-5, 1e-4 * (double)n);
    /* softmax backward on the finite rows */
    fill(B.y, rows * n, -1, 1, 0);
    ref->softmax_rows(rows, n, B.y, n, B.t1, n);
    fill(B.z, rows * n, -1, 1, 0);
    ref->softmax_bwd_rows(rows, n, B.t1, B.z, B.r1);
    k->softmax_bwd_rows(rows, n, B.t1, B.z, B.r2);
    expect_close(B.r1, B.r2, rows * n, 1e-5, 1e-7);
}

static void chk_reduce(const nnl_kernels *ref, const nnl_kernels *k, size_t n)
{
    fill(B.x, n, -3, 3, 0);
    fill(B.y, n, -3, 3, 0);
    double mag = 0;
    for (size_t i = 0; i < n; i++)
        mag += fabs(B.x[i]) + fabs((double)B.x[i] * B.y[i]);
    float r = ref->sum(n, B.x), g = k->sum(n, B.x);
    assert_true(fabs((double)r - g) <= 1e-6 * mag + 1e-30);
    r = ref->dot(n, B.x, B.y), g = k->dot(n, B.x, B.y);
    assert_true(fabs((double)r - g) <= 1e-6 * mag + 1e-30);
    fill(B.x, n, -3, 3, 1); /* with NaN and infinities */
    r = ref->max(n, B.x), g = k->max(n, B.x);
    expect_close(&r, &g, 1, 0, 0);
    assert_int_equal(ref->argmax(n, B.x), k->argmax(n, B.x));
    /* ties: the first index wins */
    if (n > 5) {
        for (size_t i = 0; i < n; i++)
            B.x[i] = 1.0f;
        B.x[n - 2] = B.x[n - 4] = 2.0f;
        assert_int_equal(k->argmax(n, B.x), n - 4);
    }
}

/* ---- optimizer steps: bitwise ------------------------------------------- */

static void chk_opt(const nnl_kernels *ref, const nnl_kernels *k, size_t n)
{
    float *w[2] = {B.r1, B.r2}, *m[2] = {B.s1, B.s2}, *v[2] = {B.t1, B.t2};
    fill(B.x, n, -1, 1, 0);  /* w */
    fill(B.y, n, -1, 1, 1);  /* g, with NaN/inf */
    fill(B.z, n, -0.1f, 0.1f, 0); /* m */
    fill(B.w, n, 0, 0.1f, 0);     /* v >= 0 */
    const nnl_kernels *t[2] = {ref, k};
    nnl_adam_params ap = {.lr_t = 1e-3f, .beta1 = 0.9f, .beta2 = 0.999f, .epsilon = 1e-7f,
                          .decay = 4e-4f};
    for (int step = 0; step < 6; step++) {
        for (int s = 0; s < 2; s++) {
            memcpy(w[s], B.x, n * sizeof(float));
            memcpy(m[s], B.z, n * sizeof(float));
            memcpy(v[s], B.w, n * sizeof(float));
            switch (step) {
            case 0: t[s]->opt_sgd(n, w[s], B.y, 0.01f); break;
            case 1: t[s]->opt_momentum(n, w[s], B.y, m[s], 0.01f, 0.9f, 0); break;
            case 2: t[s]->opt_momentum(n, w[s], B.y, m[s], 0.01f, 0.9f, 1); break;
            case 3: t[s]->opt_adam(n, w[s], B.y, m[s], v[s], &ap); break;
            case 4: t[s]->opt_rmsprop(n, w[s], B.y, v[s], 1e-3f, 0.9f, 1e-7f); break;
            default: t[s]->opt_adagrad(n, w[s], B.y, v[s], 1e-2f, 1e-7f); break;
            }
        }
        expect_close(w[0], w[1], n, 0, 0);
        expect_close(m[0], m[1], n, 0, 0);
        expect_close(v[0], v[1], n, 0, 0);
    }
}

/* transpose: n x (n % 13 + 1) blocks with padded strides, exact copy. */
static void chk_transpose(const nnl_kernels *ref, const nnl_kernels *k, size_t n)
{
    size_t rows = n % 71, cols = (n * 7) % 37 + (n > 70 ? 40 : 0);
    size_t ld = cols + 3, dstride = rows + 5;
    if (rows * ld > NMAX || cols * dstride > NMAX)
        rows = 20;
    fill(B.x, rows * ld, -9, 9, 1);
    fill(B.r1, cols * dstride, 0, 1, 0);
    memcpy(B.r2, B.r1, cols * dstride * sizeof(float));
    ref->transpose(B.x, ld, rows, cols, B.r1, dstride);
    k->transpose(B.x, ld, rows, cols, B.r2, dstride);
    expect_close(B.r1, B.r2, cols * dstride, 0, 0);
    for (size_t r = 0; r < rows; r++)
        for (size_t c = 0; c < cols; c++)
            assert_memory_equal(&B.r2[c * dstride + r], &B.x[r * ld + c], sizeof(float));
}

/* Dropout: the same mask and output bits at every level, also for an
 * index offset that is not a multiple of the vector width (y written
 * only over n). */
static void chk_dropout(const nnl_kernels *ref, const nnl_kernels *k, size_t n)
{
    fill(B.x, n, -10, 10, 1);
    static const float rates[] = {0.0f, 0.2f, 0.5f, 0.9f};
    for (int r = 0; r < 4; r++) {
        uint64_t seed = 0x123456789abcdefull * (uint64_t)(r + 1);
        ref->dropout(n, seed, rates[r], B.x, B.r1, B.s1);
        B.r2[n] = B.s2[n] = 42.0f;
        k->dropout(n, seed, rates[r], B.x, B.r2, B.s2);
        expect_close(B.s1, B.s2, n, 0, 0);
        expect_close(B.r1, B.r2, n, 0, 0);
        assert_true(B.r2[n] == 42.0f && B.s2[n] == 42.0f);
    }
}

static void test_transpose_exact(void **s) { (void)s; for_levels("transpose", chk_transpose); }
static void test_binary_ops_bitwise(void **s) { (void)s; for_levels("add/sub/mul/div", chk_binary); }
static void test_scale_axpy_bitwise(void **s) { (void)s; for_levels("scale/add_scalar/axpy", chk_scale_axpy); }
static void test_bias_and_col_sum_bitwise(void **s) { (void)s; for_levels("bias_rows/col_sum", chk_bias_colsum); }
static void test_exp_log_tanh_erf_close(void **s) { (void)s; for_levels("exp/log/tanh/erf", chk_math); }
static void test_activations_and_derivatives_close(void **s) { (void)s; for_levels("act", chk_act); }
static void test_row_kernels_close(void **s) { (void)s; for_levels("rows", chk_rows); }
static void test_reductions(void **s) { (void)s; for_levels("reductions", chk_reduce); }
static void test_optimizer_steps_bitwise(void **s) { (void)s; for_levels("optimizers", chk_opt); }
static void test_dropout_bitwise(void **s) { (void)s; for_levels("dropout", chk_dropout); }

/* The reference mask itself: values 0 or 1/(1-rate), y = x * mask, the
 * dropped fraction near rate, neighbours independent, seeds independent. */
static void test_dropout_statistics(void **state)
{
    (void)state;
    const nnl_kernels *k = nnl_kernels_for(NNL_ISA_SCALAR);
    enum { N = 16384 };
    static float x[N], y[N], m[N], m2[N];
    for (size_t i = 0; i < N; i++)
        x[i] = (float)i * 0.01f - 50.0f;
    static const float rates[] = {0.1f, 0.25f, 0.5f, 0.8f};
    for (int r = 0; r < 4; r++) {
        float rate = rates[r], keep = 1.0f / (1.0f - rate);
        k->dropout(N, 1000u + (uint64_t)r, rate, x, y, m);
        size_t dropped = 0, both = 0, same = 0;
        for (size_t i = 0; i < N; i++) {
            assert_true(m[i] == 0.0f || m[i] == keep);
            assert_true(y[i] == x[i] * m[i]);
            dropped += m[i] == 0.0f;
            if (i > 0)
                both += m[i] == 0.0f && m[i - 1] == 0.0f;
        }
        /* Binomial: sd = sqrt(N p (1-p)) <= 64; allow 5 sd. */
        double p = (double)dropped / N;
        assert_true(fabs(p - rate) < 5.0 * sqrt(rate * (1 - rate) / N));
        /* Pairs of neighbours both dropped: about rate^2. */
        double q = (double)both / (N - 1), q0 = (double)rate * rate;
        assert_true(fabs(q - q0) < 5.0 * sqrt(q0 * (1 - q0) / (N - 1)));
        /* Another seed: an unrelated mask (agreement about
         * rate^2 + (1-rate)^2, not 1). */
        k->dropout(N, 1000u + (uint64_t)r + ((uint64_t)1 << 32), rate, x, y, m2);
        for (size_t i = 0; i < N; i++)
            same += m[i] == m2[i];
        double a = (double)same / N, a0 = q0 + (1.0 - rate) * (1.0 - rate);
        assert_true(fabs(a - a0) < 5.0 * sqrt(a0 * (1 - a0) / N));
    }
}

/* The reference's update rules themselves, against a direct evaluation. */
static void test_optimizer_rules(void **state)
{
    (void)state;
    const nnl_kernels *k = nnl_kernels_for(NNL_ISA_SCALAR);
    float w = 1.0f, g = 0.5f, m = 0.0f, v = 0.0f;
    nnl_adam_params ap = {.lr_t = 0.1f, .beta1 = 0.9f, .beta2 = 0.999f, .epsilon = 1e-7f};
    k->opt_adam(1, &w, &g, &m, &v, &ap);
    /* m = 0.05, v = 0.00025, step = 0.1 * 0.05 / (0.0158114 + eps) */
    assert_true(fabs(m - 0.05f) < 1e-7 && fabs(v - 0.00025f) < 1e-7);
    assert_true(fabs(w - (1.0 - 0.1 * (double)m / (sqrt((double)v) + 1e-7))) < 1e-6);
    w = 1.0f, v = 0.0f;
    k->opt_momentum(1, &w, &g, &v, 0.1f, 0.9f, 0);
    assert_true(fabs(v + 0.05f) < 1e-7 && fabs(w - 0.95f) < 1e-7);
    k->opt_momentum(1, &w, &g, &v, 0.1f, 0.9f, 1); /* v = -0.095; w += 0.9 v - 0.05 */
    assert_true(fabs(v + 0.095f) < 1e-7 && fabs(w - (0.95f - 0.0855f - 0.05f)) < 1e-6);
    w = 1.0f, v = 0.0f;
    /* epsilon inside the root (Keras), large enough to tell */
    k->opt_rmsprop(1, &w, &g, &v, 0.01f, 0.9f, 0.01f);
    assert_true(fabs(v - 0.025f) < 1e-8);
    assert_true(fabs(w - (1.0 - 0.01 * 0.5 / sqrt(0.025 + 0.01))) < 1e-6);
    w = 1.0f, v = 0.1f;
    k->opt_adagrad(1, &w, &g, &v, 0.01f, 0.01f);
    assert_true(fabs(v - 0.35f) < 1e-7);
    assert_true(fabs(w - (1.0 - 0.01 * 0.5 / sqrt(0.35 + 0.01))) < 1e-6);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_transpose_exact),
        cmocka_unit_test(test_binary_ops_bitwise),
        cmocka_unit_test(test_scale_axpy_bitwise),
        cmocka_unit_test(test_bias_and_col_sum_bitwise),
        cmocka_unit_test(test_exp_log_tanh_erf_close),
        cmocka_unit_test(test_activations_and_derivatives_close),
        cmocka_unit_test(test_row_kernels_close),
        cmocka_unit_test(test_reductions),
        cmocka_unit_test(test_optimizer_steps_bitwise),
        cmocka_unit_test(test_optimizer_rules),
        cmocka_unit_test(test_dropout_bitwise),
        cmocka_unit_test(test_dropout_statistics),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
