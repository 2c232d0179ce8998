/* AVX-512F kernels: kern_body.h over 16-float registers with opmask
 * selects, and an MRx32 GEMM micro-kernel (2*MR accumulators, 2 B vectors,
 * 1 broadcast). Compiled with -mavx512f -mavx2 -mfma alone (simd.cmake);
 * only AVX-512F instructions are used (no DQ/BW/VL). */
#include "simd/kernels.h"

#if defined(__AVX512F__) && defined(__FMA__)
#include <immintrin.h>

#define A5_ANDF(a, b) \
    _mm512_castsi512_ps(_mm512_and_si512(_mm512_castps_si512(a), _mm512_castps_si512(b)))
#define A5_ORF(a, b) \
    _mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(a), _mm512_castps_si512(b)))

#define VF __m512
#define VI __m512i
#define VM __mmask16
#define VLEN 16
#define KSUF avx512
#define V_LOAD(p) _mm512_loadu_ps(p)
#define V_STORE(p, v) _mm512_storeu_ps((p), (v))
#define V_SET1(x) _mm512_set1_ps(x)
#define V_ADD _mm512_add_ps
#define V_SUB _mm512_sub_ps
#define V_MUL _mm512_mul_ps
#define V_DIV _mm512_div_ps
#define V_FMA _mm512_fmadd_ps
#define V_SQRT _mm512_sqrt_ps
#define V_MIN _mm512_min_ps
#define V_MAX _mm512_max_ps
#define V_ABS(a) A5_ANDF((a), _mm512_castsi512_ps(_mm512_set1_epi32(0x7fffffff)))
#define V_COPYSIGN(m, s) \
    A5_ORF((m), A5_ANDF((s), _mm512_castsi512_ps(_mm512_set1_epi32(INT32_MIN))))
#define V_LT(a, b) _mm512_cmp_ps_mask((a), (b), _CMP_LT_OQ)
#define V_GT(a, b) _mm512_cmp_ps_mask((a), (b), _CMP_GT_OQ)
#define V_EQ(a, b) _mm512_cmp_ps_mask((a), (b), _CMP_EQ_OQ)
#define V_ISNAN(a) _mm512_cmp_ps_mask((a), (a), _CMP_UNORD_Q)
#define V_SEL(m, a, b) _mm512_mask_blend_ps((m), (b), (a))
#define V_CVT_I _mm512_cvtps_epi32
#define V_I2F _mm512_cvtepi32_ps
#define V_ISET1 _mm512_set1_epi32
#define V_IADD _mm512_add_epi32
#define V_ISUB _mm512_sub_epi32
#define V_IAND _mm512_and_si512
#define V_IOR _mm512_or_si512
#define V_ISLL _mm512_slli_epi32
#define V_ISRL _mm512_srli_epi32
#define V_ISRA _mm512_srai_epi32
#define V_F2BITS _mm512_castps_si512
#define V_BITS2F _mm512_castsi512_ps

/* Masked tails: lanes at and past rem are neither read nor written. */
#define A5_TAIL(rem) ((__mmask16)((1u << (rem)) - 1u))
#define V_LOAD_PART(p, rem, pad) _mm512_mask_loadu_ps(_mm512_set1_ps(pad), A5_TAIL(rem), (p))
#define V_STORE_PART(p, v, rem) _mm512_mask_storeu_ps((p), A5_TAIL(rem), (v))
#define V_IXOR _mm512_xor_si512
#define V_IMUL _mm512_mullo_epi32
#define V_IOTA _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)

/* Integer lanes for kern_pool.h; masks are opmasks. */
#define V_ILOAD(p) _mm512_loadu_si512((const void *)(p))
#define V_ISTORE(p, v) _mm512_storeu_si512((void *)(p), (v))
#define V_IEQ(a, b) _mm512_cmpeq_epi32_mask((a), (b))
#define V_ISEL(m, a, b) _mm512_mask_blend_epi32((m), (b), (a))
#define V_ILOAD8(p) _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(const void *)(p)))
#define V_ISTORE8(p, v) _mm_storeu_si128((__m128i *)(void *)(p), _mm512_cvtepi32_epi8(v))
#define V_STREAM(p, v) _mm512_stream_ps((p), (v))
#define V_SFENCE() _mm_sfence()

#include "simd/kern_body.h"
#include "simd/kern_pool.h"
#include "simd/kern_wino.h"
#include "simd/kern_ew.h"

/* Double lanes for kern_reduce.h. */
#define VD __m512d
#define VDLEN 8
#define VD_ZERO() _mm512_setzero_pd()
#define VD_SET1(x) _mm512_set1_pd(x)
#define VD_FROMF(p) _mm512_cvtps_pd(_mm256_loadu_ps(p))
#define VD_LOAD(p) _mm512_loadu_pd(p)
#define VD_STORE(p, v) _mm512_storeu_pd((p), (v))
#define VD_ADD _mm512_add_pd
#define VD_SUB _mm512_sub_pd
#define VD_MUL _mm512_mul_pd
#define VD_ABS(a) _mm512_abs_pd(a)
#include "simd/kern_reduce.h"

/* The direct kernel (kern_direct.h): strips of up to 64 columns, 8 rows
 * of 1-3 vectors or 6 rows of 4 (8 to 24 accumulators; 8 already cover
 * one FMA per cycle at 4 cycles latency on Zen 4). Strips of 64 rather
 * than 32 columns: conv 15488x64x288 1.16-1.19x, 86528x64x27 1.4x,
 * others within noise (Zen 4). */
#ifndef A5_GD_NV
#define A5_GD_NV 4
#endif
#define GD_NV A5_GD_NV
#define GD_MR(nv) ((nv) <= 3 ? 8 : 6)
#define GD_MR_MAX 8
/* k unrolled by 4 (Zen 4, best of repeated timings, against none): 128 x
 * 10 x 128 2-3 % faster, square 64 3 %, conv 288x64x15488 dW 12 %, conv
 * 86528x32x9 (k = 9) 0-4 % slower, the others within noise. */
#ifndef A5_GD_KUNROLL
#define A5_GD_KUNROLL 4
#endif
#define GD_KUNROLL A5_GD_KUNROLL
#include "simd/kern_direct.h"

#ifndef A5_MR
#define A5_MR 12
#endif
#define A5_NR 32
/* Cache blocking (floats): A block MC x KC in L2, B panel KC x NR in L1. */
#ifndef A5_MC
#define A5_MC (A5_MR * 16)
#endif
#ifndef A5_KC
#define A5_KC 256
#endif
#ifndef A5_NC
#define A5_NC 2048
#endif

static void gemm_ukr_avx512(size_t kc, const float *ap, const float *bp, size_t ldb,
                            float *c, size_t ldc, float alpha, float beta)
{
    __m512 acc[A5_MR][2];
#pragma GCC unroll 16
    for (int i = 0; i < A5_MR; i++)
        acc[i][0] = acc[i][1] = _mm512_setzero_ps();
    /* Fetch the C tile to be updated while the loop runs: with a
     * power-of-two ldc its rows share a few cache sets and were evicted
     * (n = 2048: 0.90x -> 0.96x OpenBLAS). Not for beta = 0, where C is
     * only written: that measured slower. */
    if (beta != 0.0f) {
#pragma GCC unroll 16
        for (int i = 0; i < A5_MR; i++) {
            _mm_prefetch((const char *)(c + (size_t)i * ldc), _MM_HINT_T0);
            _mm_prefetch((const char *)(c + (size_t)i * ldc + 16), _MM_HINT_T0);
        }
    }
    for (size_t p = 0; p < kc; p++) {
        __m512 b0 = _mm512_loadu_ps(bp), b1 = _mm512_loadu_ps(bp + 16);
#pragma GCC unroll 16
        for (int i = 0; i < A5_MR; i++) {
            __m512 a = _mm512_set1_ps(ap[i]);
            acc[i][0] = _mm512_fmadd_ps(a, b0, acc[i][0]);
            acc[i][1] = _mm512_fmadd_ps(a, b1, acc[i][1]);
        }
        ap += A5_MR;
        bp += ldb;
    }
    __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
#pragma GCC unroll 16
    for (int i = 0; i < A5_MR; i++) {
        float *cr = c + (size_t)i * ldc;
        if (beta == 0.0f) {
            _mm512_storeu_ps(cr, _mm512_mul_ps(va, acc[i][0]));
            _mm512_storeu_ps(cr + 16, _mm512_mul_ps(va, acc[i][1]));
        } else {
            _mm512_storeu_ps(cr, _mm512_fmadd_ps(va, acc[i][0],
                                                 _mm512_mul_ps(vb, _mm512_loadu_ps(cr))));
            _mm512_storeu_ps(cr + 16, _mm512_fmadd_ps(va, acc[i][1],
                                                      _mm512_mul_ps(vb, _mm512_loadu_ps(cr + 16))));
        }
    }
}

void nnl_kern_fill_avx512(nnl_kernels *k)
{
    fill_body_avx512(k);
    fill_pool_avx512(k);
    fill_wino_avx512(k);
    fill_ew_avx512(k);
    fill_reduce_avx512(k);
    k->gemm_ukr = gemm_ukr_avx512;
    k->gemm_mr = A5_MR;
    k->gemm_nr = A5_NR;
    k->gemm_mc = A5_MC;
    k->gemm_kc = A5_KC;
    k->gemm_nc = A5_NC;
    k->gemm_dkr = gemm_direct_avx512;
    k->gemm_dnr = GD_NV * VLEN;
    /* Zen 4: direct 1.1x packed at 512^3, 0.87x at 768^3 */
    k->gemm_direct_max = (size_t)1 << 27;
}
#else
void nnl_kern_fill_avx512(nnl_kernels *k) { (void)k; }
#endif
