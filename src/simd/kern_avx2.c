/* AVX2 + FMA kernels: kern_body.h over 8-float registers and a 6x16 GEMM
 * micro-kernel (12 accumulators, 2 B vectors, 1 broadcast: 15 of the 16
 * ymm registers). Compiled with -mavx2 -mfma alone (see simd.cmake). */
#include "simd/kernels.h"

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>

#define VF __m256
#define VI __m256i
#define VM __m256
#define VLEN 8
#define KSUF avx2
#define V_LOAD(p) _mm256_loadu_ps(p)
#define V_STORE(p, v) _mm256_storeu_ps((p), (v))
#define V_SET1(x) _mm256_set1_ps(x)
#define V_ADD _mm256_add_ps
#define V_SUB _mm256_sub_ps
#define V_MUL _mm256_mul_ps
#define V_DIV _mm256_div_ps
#define V_FMA _mm256_fmadd_ps
#define V_SQRT _mm256_sqrt_ps
#define V_MIN _mm256_min_ps
#define V_MAX _mm256_max_ps
#define V_ABS(a) _mm256_and_ps((a), _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff)))
#define V_COPYSIGN(m, s) \
    _mm256_or_ps((m), _mm256_and_ps((s), _mm256_castsi256_ps(_mm256_set1_epi32(INT32_MIN))))
#define V_LT(a, b) _mm256_cmp_ps((a), (b), _CMP_LT_OQ)
#define V_GT(a, b) _mm256_cmp_ps((a), (b), _CMP_GT_OQ)
#define V_EQ(a, b) _mm256_cmp_ps((a), (b), _CMP_EQ_OQ)
#define V_ISNAN(a) _mm256_cmp_ps((a), (a), _CMP_UNORD_Q)
#define V_SEL(m, a, b) _mm256_blendv_ps((b), (a), (m))
#define V_CVT_I _mm256_cvtps_epi32
#define V_I2F _mm256_cvtepi32_ps
#define V_ISET1 _mm256_set1_epi32
#define V_IADD _mm256_add_epi32
#define V_ISUB _mm256_sub_epi32
#define V_IAND _mm256_and_si256
#define V_IOR _mm256_or_si256
#define V_ISLL _mm256_slli_epi32
#define V_ISRL _mm256_srli_epi32
#define V_ISRA _mm256_srai_epi32
#define V_F2BITS _mm256_castps_si256
#define V_BITS2F _mm256_castsi256_ps

/* Masked tails: lanes at and past rem are neither read nor written
 * (vmaskmovps); a lane's mask is its sign bit. */
static inline __m256i a2_tail(size_t rem)
{
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)rem), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
#define V_LOAD_PART(p, rem, pad)                                                  \
    _mm256_blendv_ps(_mm256_set1_ps(pad), _mm256_maskload_ps((p), a2_tail(rem)), \
                     _mm256_castsi256_ps(a2_tail(rem)))
#define V_STORE_PART(p, v, rem) _mm256_maskstore_ps((p), a2_tail(rem), (v))
#define V_IXOR _mm256_xor_si256
#define V_IMUL _mm256_mullo_epi32
#define V_IOTA _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)

/* Integer lanes for kern_pool.h; masks are float vectors (sign bits). */
#define V_ILOAD(p) _mm256_loadu_si256((const __m256i *)(const void *)(p))
#define V_ISTORE(p, v) _mm256_storeu_si256((__m256i *)(void *)(p), (v))
#define V_IEQ(a, b) _mm256_castsi256_ps(_mm256_cmpeq_epi32((a), (b)))
#define V_ISEL(m, a, b) \
    _mm256_castps_si256(_mm256_blendv_ps(_mm256_castsi256_ps(b), _mm256_castsi256_ps(a), (m)))
#define V_ILOAD8(p) _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(const void *)(p)))
static inline void a2_istore8(void *p, __m256i v)
{
    __m128i s = _mm_packus_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    _mm_storel_epi64((__m128i *)p, _mm_packus_epi16(s, s));
}
#define V_ISTORE8(p, v) a2_istore8((p), (v))
#define V_STREAM(p, v) _mm256_stream_ps((p), (v))
#define V_SFENCE() _mm_sfence()

#include "simd/kern_body.h"
#include "simd/kern_pool.h"
#include "simd/kern_wino.h"
#include "simd/kern_ew.h"

/* Double lanes for kern_reduce.h. */
#define VD __m256d
#define VDLEN 4
#define VD_ZERO() _mm256_setzero_pd()
#define VD_SET1(x) _mm256_set1_pd(x)
#define VD_FROMF(p) _mm256_cvtps_pd(_mm_loadu_ps(p))
#define VD_LOAD(p) _mm256_loadu_pd(p)
#define VD_STORE(p, v) _mm256_storeu_pd((p), (v))
#define VD_ADD _mm256_add_pd
#define VD_SUB _mm256_sub_pd
#define VD_MUL _mm256_mul_pd
#define VD_ABS(a) _mm256_andnot_pd(_mm256_set1_pd(-0.0), (a))
#include "simd/kern_reduce.h"

/* The direct kernel (kern_direct.h): 8 rows x 8 or 6 rows x 16 columns
 * (8 or 12 accumulators of the 16 ymm registers). */
#define GD_NV 2
#define GD_MR(nv) ((nv) == 1 ? 8 : 6)
#define GD_MR_MAX 8
#include "simd/kern_direct.h"

#define A2_MR 6
#define A2_NR 16
#ifndef A2_MC
#define A2_MC 144
#endif
#ifndef A2_KC
#define A2_KC 256
#endif
#ifndef A2_NC
#define A2_NC 2048
#endif

static void gemm_ukr_avx2_6x16(size_t kc, const float *ap, const float *bp, size_t ldb,
                               float *c, size_t ldc, float alpha, float beta)
{
    __m256 acc[A2_MR][2];
#pragma GCC unroll 6
    for (int i = 0; i < A2_MR; i++)
        acc[i][0] = acc[i][1] = _mm256_setzero_ps();
    /* Fetch the C tile to be updated while the loop runs (as at avx512):
     * with a power-of-two ldc its rows share a few cache sets and were
     * evicted. On the Sapphire Rapids test machine, against OpenBLAS's
     * Haswell kernels: n = 2048 0.78x -> 0.91-0.99x, n = 1024 0.87x ->
     * 0.91-0.95x. */
    if (beta != 0.0f) {
#pragma GCC unroll 6
        for (int i = 0; i < A2_MR; i++) {
            _mm_prefetch((const char *)(c + (size_t)i * ldc), _MM_HINT_T0);
            _mm_prefetch((const char *)(c + (size_t)i * ldc + 15), _MM_HINT_T0);
        }
    }
    for (size_t p = 0; p < kc; p++) {
        __m256 b0 = _mm256_loadu_ps(bp), b1 = _mm256_loadu_ps(bp + 8);
#pragma GCC unroll 6
        for (int i = 0; i < A2_MR; i++) {
            __m256 a = _mm256_broadcast_ss(ap + i);
            acc[i][0] = _mm256_fmadd_ps(a, b0, acc[i][0]);
            acc[i][1] = _mm256_fmadd_ps(a, b1, acc[i][1]);
        }
        ap += A2_MR;
        bp += ldb;
    }
    __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
#pragma GCC unroll 6
    for (int i = 0; i < A2_MR; i++) {
        float *cr = c + (size_t)i * ldc;
        if (beta == 0.0f) {
            _mm256_storeu_ps(cr, _mm256_mul_ps(va, acc[i][0]));
            _mm256_storeu_ps(cr + 8, _mm256_mul_ps(va, acc[i][1]));
        } else {
            _mm256_storeu_ps(cr, _mm256_fmadd_ps(va, acc[i][0],
                                                 _mm256_mul_ps(vb, _mm256_loadu_ps(cr))));
            _mm256_storeu_ps(cr + 8, _mm256_fmadd_ps(va, acc[i][1],
                                                     _mm256_mul_ps(vb, _mm256_loadu_ps(cr + 8))));
        }
    }
}

/* Strips of fewer rows than this are copied element by element by
 * transpose_avx2 (see there). */
#ifndef A2_T_MIN_ROWS
#define A2_T_MIN_ROWS 4
#endif

/* One 8x8 transpose in registers: rows x[0..7] in, columns y[0..7] out. */
#define A2_T8X8(x0, x1, x2, x3, x4, x5, x6, x7, y0, y1, y2, y3, y4, y5, y6, y7)         \
    do {                                                                               \
        __m256 t0 = _mm256_unpacklo_ps(x0, x1), t1 = _mm256_unpackhi_ps(x0, x1);       \
        __m256 t2 = _mm256_unpacklo_ps(x2, x3), t3 = _mm256_unpackhi_ps(x2, x3);       \
        __m256 t4 = _mm256_unpacklo_ps(x4, x5), t5 = _mm256_unpackhi_ps(x4, x5);       \
        __m256 t6 = _mm256_unpacklo_ps(x6, x7), t7 = _mm256_unpackhi_ps(x6, x7);       \
        __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xee); \
        __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xee); \
        __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xee); \
        __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xee); \
        y0 = _mm256_permute2f128_ps(u0, u4, 0x20);                                   \
        y1 = _mm256_permute2f128_ps(u1, u5, 0x20);                                   \
        y2 = _mm256_permute2f128_ps(u2, u6, 0x20);                                   \
        y3 = _mm256_permute2f128_ps(u3, u7, 0x20);                                   \
        y4 = _mm256_permute2f128_ps(u0, u4, 0x31);                                   \
        y5 = _mm256_permute2f128_ps(u1, u5, 0x31);                                   \
        y6 = _mm256_permute2f128_ps(u2, u6, 0x31);                                   \
        y7 = _mm256_permute2f128_ps(u3, u7, 0x31);                                   \
    } while (0)

/* An edge block: rr < 8 rows (missing ones zero) or cc < 8 columns (not
 * loaded: masked), only the present rows and columns stored (masked). */
static void transpose_edge_avx2(const float *s, size_t ld, size_t rr, size_t cc, float *d,
                                size_t dstride)
{
    __m256i cmask = a2_tail(cc), rmask = a2_tail(rr);
    __m256 x[8], y[8];
    for (size_t i = 0; i < 8; i++)
        x[i] = i < rr ? _mm256_maskload_ps(s + i * ld, cmask) : _mm256_setzero_ps();
    A2_T8X8(x[0], x[1], x[2], x[3], x[4], x[5], x[6], x[7], y[0], y[1], y[2], y[3], y[4], y[5],
            y[6], y[7]);
    for (size_t j = 0; j < cc; j++)
        _mm256_maskstore_ps(d + j * dstride, rmask, y[j]);
}

/* 8x8 blocks through registers (unpack, shuffle, lane permute). Blocks at
 * the bottom or right edge with 4-7 rows (or any columns) go through the
 * same registers, masked (transpose_edge_avx2); strips of 1-3 rows are
 * copied element by element, which is cheaper than masked stores. The
 * GEMM packs A in strips of MR = 6 (avx2) or 12 (avx512) rows, which had
 * all (avx2) or a third (avx512) of their rows copied one by one: a 64^3
 * product spent 21 % of its instructions there, 8 % now. */
static void transpose_avx2(const float *src, size_t ld, size_t rows, size_t cols, float *dst,
                           size_t dstride)
{
    size_t r = 0;
    for (; r + 8 <= rows; r += 8) {
        const float *s = src + r * ld;
        size_t c = 0;
        for (; c + 8 <= cols; c += 8) {
            __m256 r0 = _mm256_loadu_ps(s + c), r1 = _mm256_loadu_ps(s + ld + c);
            __m256 r2 = _mm256_loadu_ps(s + 2 * ld + c), r3 = _mm256_loadu_ps(s + 3 * ld + c);
            __m256 r4 = _mm256_loadu_ps(s + 4 * ld + c), r5 = _mm256_loadu_ps(s + 5 * ld + c);
            __m256 r6 = _mm256_loadu_ps(s + 6 * ld + c), r7 = _mm256_loadu_ps(s + 7 * ld + c);
            __m256 y0, y1, y2, y3, y4, y5, y6, y7;
            A2_T8X8(r0, r1, r2, r3, r4, r5, r6, r7, y0, y1, y2, y3, y4, y5, y6, y7);
            float *d = dst + c * dstride + r;
            _mm256_storeu_ps(d, y0);
            _mm256_storeu_ps(d + dstride, y1);
            _mm256_storeu_ps(d + 2 * dstride, y2);
            _mm256_storeu_ps(d + 3 * dstride, y3);
            _mm256_storeu_ps(d + 4 * dstride, y4);
            _mm256_storeu_ps(d + 5 * dstride, y5);
            _mm256_storeu_ps(d + 6 * dstride, y6);
            _mm256_storeu_ps(d + 7 * dstride, y7);
        }
        if (c < cols)
            transpose_edge_avx2(s + c, ld, 8, cols - c, dst + c * dstride + r, dstride);
    }
    if (rows - r >= A2_T_MIN_ROWS) {
        for (size_t c = 0; c < cols; c += 8)
            transpose_edge_avx2(src + r * ld + c, ld, rows - r, cols - c < 8 ? cols - c : 8,
                                dst + c * dstride + r, dstride);
        r = rows;
    }
    for (; r < rows; r++)
        for (size_t c = 0; c < cols; c++)
            dst[c * dstride + r] = src[r * ld + c];
}

void nnl_kern_fill_avx2(nnl_kernels *k)
{
    fill_body_avx2(k);
    fill_pool_avx2(k);
    fill_wino_avx2(k);
    fill_ew_avx2(k);
    fill_reduce_avx2(k);
    k->transpose = transpose_avx2;
    k->gemm_ukr = gemm_ukr_avx2_6x16;
    k->gemm_mr = A2_MR;
    k->gemm_nr = A2_NR;
    k->gemm_mc = A2_MC;
    k->gemm_kc = A2_KC;
    k->gemm_nc = A2_NC;
    k->gemm_dkr = gemm_direct_avx2;
    k->gemm_dnr = GD_NV * VLEN;
    /* Zen 4: direct = packed at 256^3, 0.84x at 512^3 */
    k->gemm_direct_max = (size_t)1 << 24;
}
#else
void nnl_kern_fill_avx2(nnl_kernels *k) { (void)k; }
#endif
