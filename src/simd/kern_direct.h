/* The GEMM direct kernel, written once over the macro set of kern_body.h
 * (included by each kern_<isa>.c after kern_body.h).
 *
 * C[m x n] = alpha * A[m x kc] * B[kc x n] + beta * C, n <= GD_NV * VLEN,
 * with A read where it is (element (i, p) at a[i * lda + p], or at
 * a[p * lda + i] when ta: no packing) and B row p at b + p * ldb (B
 * itself when row-major, or a row-major copy of op(B) when transposed).
 * Small products and products with a short reduction or few columns
 * (im2col convolutions: k = 9, n = 32) spent as much time packing A as
 * multiplying; here every A element is broadcast straight from memory. Columns past n are neither read nor written (the
 * last vector is masked), so B and C need no padding.
 *
 * Per element the arithmetic is the packed micro-kernel's: products
 * summed in k order from zero (fused at the levels whose V_FMA fuses),
 * then alpha * sum, or alpha * sum + beta * C with the level's V_FMA
 * (the multiplies skipped when alpha or beta is 1, which changes no bit).
 * So a product gives the same bits through either path when both use the
 * same k blocks.
 *
 * Per level: GD_NV (most vectors per row of the register tile) and
 * GD_MR(nv) (rows of the tile for nv vectors; at most GD_MR_MAX);
 * optionally GD_KUNROLL, how many k steps the compiler unrolls (the
 * arithmetic and its order stay the same). */

_Static_assert(GD_MR_MAX <= 12 && GD_NV <= 4, "kern_direct.h: gd_rows and gemm_direct "
                                              "handle tiles of at most 12 rows and 4 vectors");

/* One mr x nv-vector tile of C over kc; every argument in capitals is a
 * constant once inlined, so acc lives in registers. The last vector has
 * rem columns when PART (rem < VLEN). */
KINLINE void KN(gd_tile)(const int TA, const int MR, const int NV, const int PART, size_t rem,
                         size_t kc,
                         const float *a, size_t lda, const float *b, size_t ldb, float *c,
                         size_t ldc, float alpha, float beta)
{
    VF acc[GD_MR_MAX][GD_NV];
#pragma GCC unroll 16
    for (int i = 0; i < MR; i++)
#pragma GCC unroll 4
        for (int v = 0; v < NV; v++)
            acc[i][v] = V_SET1(0.0f);
#ifdef GD_KUNROLL
#define GD_PRAGMA_(x) _Pragma(#x)
#define GD_UNROLL_(n) GD_PRAGMA_(GCC unroll n)
    GD_UNROLL_(GD_KUNROLL)
#endif
    for (size_t p = 0; p < kc; p++) {
        VF bv[GD_NV];
#pragma GCC unroll 4
        for (int v = 0; v < NV; v++)
            bv[v] = PART && v == NV - 1 ? KN(load_part)(b + v * VLEN, rem, 0.0f)
                                        : V_LOAD(b + v * VLEN);
#pragma GCC unroll 16
        for (int i = 0; i < MR; i++) {
            VF av = V_SET1(TA ? a[i] : a[(size_t)i * lda + p]);
#pragma GCC unroll 4
            for (int v = 0; v < NV; v++)
                acc[i][v] = V_FMA(av, bv[v], acc[i][v]);
        }
        b += ldb;
        if (TA)
            a += lda;
    }
    /* alpha = 1 skips the multiply by one, beta = 1 as well: same bits
     * (for K = 9 those multiplies were a tenth of the FMA pipe's work) */
    VF va = V_SET1(alpha), vb = V_SET1(beta);
    int unit = alpha == 1.0f;
#pragma GCC unroll 16
    for (int i = 0; i < MR; i++) {
        float *cr = c + (size_t)i * ldc;
#pragma GCC unroll 4
        for (int v = 0; v < NV; v++) {
            int part = PART && v == NV - 1;
            VF r;
            if (beta == 0.0f) {
                r = unit ? acc[i][v] : V_MUL(va, acc[i][v]);
            } else {
                VF cv = part ? KN(load_part)(cr + v * VLEN, rem, 0.0f) : V_LOAD(cr + v * VLEN);
                r = unit && beta == 1.0f ? V_ADD(acc[i][v], cv)
                                         : V_FMA(va, acc[i][v], V_MUL(vb, cv));
            }
            if (part)
                KN(store_part)(cr + v * VLEN, r, rem);
            else
                V_STORE(cr + v * VLEN, r);
        }
    }
}

/* All m rows for one width: full GD_MR(NV)-row tiles, then one shorter. */
KINLINE void KN(gd_rows)(const int TA, const int NV, const int PART, size_t rem, size_t m,
                         size_t kc,
                         const float *a, size_t lda, const float *b, size_t ldb, float *c,
                         size_t ldc, float alpha, float beta)
{
    const int MR = GD_MR(NV);
    const size_t rs = TA ? 1 : lda; /* A's stride from row to row */
    size_t i = 0;
    for (; i + (size_t)MR <= m; i += (size_t)MR)
        KN(gd_tile)(TA, MR, NV, PART, rem, kc, a + i * rs, lda, b, ldb, c + i * ldc, ldc, alpha,
                    beta);
    a += i * rs, c += i * ldc;
    switch (m - i) {
#define GD_TAIL(r)                                                                      \
    case r:                                                                             \
        if (r < MR)                                                                     \
            KN(gd_tile)(TA, r < MR ? r : 1, NV, PART, rem, kc, a, lda, b, ldb, c, ldc,    \
                        alpha, beta);                                                   \
        break;
        GD_TAIL(1)
        GD_TAIL(2)
        GD_TAIL(3)
        GD_TAIL(4)
        GD_TAIL(5)
        GD_TAIL(6)
        GD_TAIL(7)
        GD_TAIL(8)
        GD_TAIL(9)
        GD_TAIL(10)
        GD_TAIL(11)
#undef GD_TAIL
    default:
        break;
    }
}

KINLINE void KN(gd_widths)(const int TA, size_t m, size_t n, size_t kc, const float *a,
                           size_t lda, const float *b, size_t ldb, float *c, size_t ldc,
                           float alpha, float beta)
{
    size_t nv = (n + VLEN - 1) / VLEN, rem = n - (nv - 1) * VLEN;
    int part = rem < VLEN;
    switch (nv) {
#define GD_WIDTH(w)                                                                       \
    case w:                                                                               \
        if (w <= GD_NV) {                                                                 \
            if (part)                                                                     \
                KN(gd_rows)(TA, w <= GD_NV ? w : 1, 1, rem, m, kc, a, lda, b, ldb, c, ldc, \
                            alpha, beta);                                                 \
            else                                                                          \
                KN(gd_rows)(TA, w <= GD_NV ? w : 1, 0, rem, m, kc, a, lda, b, ldb, c, ldc, \
                            alpha, beta);                                                 \
        }                                                                                 \
        break;
        GD_WIDTH(1)
        GD_WIDTH(2)
        GD_WIDTH(3)
        GD_WIDTH(4)
#undef GD_WIDTH
    default:
        break;
    }
}

static void KN(gemm_direct)(int ta, size_t m, size_t n, size_t kc, const float *a, size_t lda,
                            const float *b, size_t ldb, float *c, size_t ldc, float alpha,
                            float beta)
{
    if (n == 0)
        return;
    if (ta)
        KN(gd_widths)(1, m, n, kc, a, lda, b, ldb, c, ldc, alpha, beta);
    else
        KN(gd_widths)(0, m, n, kc, a, lda, b, ldb, c, ldc, alpha, beta);
}
