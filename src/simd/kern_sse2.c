/* SSE2 kernels: kern_body.h over 4-float registers and a 4x8 GEMM
 * micro-kernel (no FMA at this level: multiply then add). Compiled with
 * -msse2 alone (see simd.cmake). */
#include "simd/kernels.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#include <string.h>

static inline __m128 s2_sel(__m128 m, __m128 a, __m128 b)
{
    return _mm_or_ps(_mm_and_ps(m, a), _mm_andnot_ps(m, b));
}

#define VF __m128
#define VI __m128i
#define VM __m128
#define VLEN 4
#define KSUF sse2
#define V_LOAD(p) _mm_loadu_ps(p)
#define V_STORE(p, v) _mm_storeu_ps((p), (v))
#define V_SET1(x) _mm_set1_ps(x)
#define V_ADD _mm_add_ps
#define V_SUB _mm_sub_ps
#define V_MUL _mm_mul_ps
#define V_DIV _mm_div_ps
#define V_FMA(a, b, c) _mm_add_ps(_mm_mul_ps((a), (b)), (c))
#define V_SQRT _mm_sqrt_ps
#define V_MIN _mm_min_ps
#define V_MAX _mm_max_ps
#define V_ABS(a) _mm_and_ps((a), _mm_castsi128_ps(_mm_set1_epi32(0x7fffffff)))
#define V_COPYSIGN(m, s) \
    _mm_or_ps((m), _mm_and_ps((s), _mm_castsi128_ps(_mm_set1_epi32(INT32_MIN))))
#define V_LT _mm_cmplt_ps
#define V_GT _mm_cmpgt_ps
#define V_EQ _mm_cmpeq_ps
#define V_ISNAN(a) _mm_cmpunord_ps((a), (a))
#define V_SEL s2_sel
#define V_CVT_I _mm_cvtps_epi32
#define V_I2F _mm_cvtepi32_ps
#define V_ISET1 _mm_set1_epi32
#define V_IADD _mm_add_epi32
#define V_ISUB _mm_sub_epi32
#define V_IAND _mm_and_si128
#define V_IOR _mm_or_si128
#define V_ISLL _mm_slli_epi32
#define V_ISRL _mm_srli_epi32
#define V_ISRA _mm_srai_epi32
#define V_F2BITS _mm_castps_si128
#define V_BITS2F _mm_castsi128_ps

/* SSE2 has no 32-bit multiply-low (pmulld is SSE4.1): two 32x32->64
 * products of the even and odd lanes, their low halves put back in order. */
static inline __m128i s2_mullo(__m128i a, __m128i b)
{
    __m128i even = _mm_mul_epu32(a, b);
    __m128i odd = _mm_mul_epu32(_mm_srli_epi64(a, 32), _mm_srli_epi64(b, 32));
    return _mm_unpacklo_epi32(_mm_shuffle_epi32(even, _MM_SHUFFLE(0, 0, 2, 0)),
                              _mm_shuffle_epi32(odd, _MM_SHUFFLE(0, 0, 2, 0)));
}

#define V_IXOR _mm_xor_si128
#define V_IMUL s2_mullo
#define V_IOTA _mm_setr_epi32(0, 1, 2, 3)

/* Integer lanes for kern_pool.h; masks are float vectors (all-ones lanes). */
#define V_ILOAD(p) _mm_loadu_si128((const __m128i *)(const void *)(p))
#define V_ISTORE(p, v) _mm_storeu_si128((__m128i *)(void *)(p), (v))
#define V_IEQ(a, b) _mm_castsi128_ps(_mm_cmpeq_epi32((a), (b)))
#define V_ISEL(m, a, b) _mm_castps_si128(s2_sel((m), _mm_castsi128_ps(a), _mm_castsi128_ps(b)))
static inline __m128i s2_iload8(const void *p)
{
    int32_t t;
    memcpy(&t, p, 4);
    __m128i z = _mm_setzero_si128();
    return _mm_unpacklo_epi16(_mm_unpacklo_epi8(_mm_cvtsi32_si128(t), z), z);
}
static inline void s2_istore8(void *p, __m128i v)
{
    __m128i s = _mm_packs_epi32(v, v);
    int32_t t = _mm_cvtsi128_si32(_mm_packus_epi16(s, s));
    memcpy(p, &t, 4);
}
#define V_ILOAD8(p) s2_iload8(p)
#define V_ISTORE8(p, v) s2_istore8((p), (v))

#include "simd/kern_body.h"
#include "simd/kern_pool.h"
#include "simd/kern_wino.h"
#include "simd/kern_ew.h"

/* Double lanes for kern_reduce.h. */
#define VD __m128d
#define VDLEN 2
#define VD_ZERO() _mm_setzero_pd()
#define VD_SET1(x) _mm_set1_pd(x)
#define VD_FROMF(p) _mm_cvtps_pd(_mm_castsi128_ps(_mm_loadl_epi64((const __m128i *)(const void *)(p))))
#define VD_LOAD(p) _mm_loadu_pd(p)
#define VD_STORE(p, v) _mm_storeu_pd((p), (v))
#define VD_ADD _mm_add_pd
#define VD_SUB _mm_sub_pd
#define VD_MUL _mm_mul_pd
#define VD_ABS(a) _mm_andnot_pd(_mm_set1_pd(-0.0), (a))
#include "simd/kern_reduce.h"

/* The direct kernel (kern_direct.h): 8 rows x 4 or 4 rows x 8 columns. */
#define GD_NV 2
#define GD_MR(nv) ((nv) == 1 ? 8 : 4)
#define GD_MR_MAX 8
#include "simd/kern_direct.h"

#define S2_MR 4
#define S2_NR 8

static void gemm_ukr_sse2_4x8(size_t kc, const float *ap, const float *bp, size_t ldb,
                              float *c, size_t ldc, float alpha, float beta)
{
    __m128 c00 = _mm_setzero_ps(), c01 = c00, c10 = c00, c11 = c00;
    __m128 c20 = c00, c21 = c00, c30 = c00, c31 = c00;
    for (size_t p = 0; p < kc; p++) {
        __m128 b0 = _mm_loadu_ps(bp), b1 = _mm_loadu_ps(bp + 4);
        __m128 a;
        a = _mm_set1_ps(ap[0]);
        c00 = _mm_add_ps(c00, _mm_mul_ps(a, b0));
        c01 = _mm_add_ps(c01, _mm_mul_ps(a, b1));
        a = _mm_set1_ps(ap[1]);
        c10 = _mm_add_ps(c10, _mm_mul_ps(a, b0));
        c11 = _mm_add_ps(c11, _mm_mul_ps(a, b1));
        a = _mm_set1_ps(ap[2]);
        c20 = _mm_add_ps(c20, _mm_mul_ps(a, b0));
        c21 = _mm_add_ps(c21, _mm_mul_ps(a, b1));
        a = _mm_set1_ps(ap[3]);
        c30 = _mm_add_ps(c30, _mm_mul_ps(a, b0));
        c31 = _mm_add_ps(c31, _mm_mul_ps(a, b1));
        ap += S2_MR;
        bp += ldb;
    }
    __m128 acc[S2_MR][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}};
    __m128 va = _mm_set1_ps(alpha), vb = _mm_set1_ps(beta);
    for (int i = 0; i < S2_MR; i++) {
        float *cr = c + (size_t)i * ldc;
        for (int h = 0; h < 2; h++) {
            __m128 r = _mm_mul_ps(va, acc[i][h]);
            if (beta != 0.0f)
                r = _mm_add_ps(r, _mm_mul_ps(vb, _mm_loadu_ps(cr + 4 * h)));
            _mm_storeu_ps(cr + 4 * h, r);
        }
    }
}

/* 4x4 blocks through registers, scalar edges. */
static void transpose_sse2(const float *src, size_t ld, size_t rows, size_t cols, float *dst,
                           size_t dstride)
{
    size_t r = 0;
    for (; r + 4 <= rows; r += 4) {
        const float *s0 = src + r * ld, *s1 = s0 + ld, *s2 = s1 + ld, *s3 = s2 + ld;
        size_t c = 0;
        for (; c + 4 <= cols; c += 4) {
            __m128 v0 = _mm_loadu_ps(s0 + c), v1 = _mm_loadu_ps(s1 + c);
            __m128 v2 = _mm_loadu_ps(s2 + c), v3 = _mm_loadu_ps(s3 + c);
            _MM_TRANSPOSE4_PS(v0, v1, v2, v3);
            float *d = dst + c * dstride + r;
            _mm_storeu_ps(d, v0);
            _mm_storeu_ps(d + dstride, v1);
            _mm_storeu_ps(d + 2 * dstride, v2);
            _mm_storeu_ps(d + 3 * dstride, v3);
        }
        for (; c < cols; c++) {
            float *d = dst + c * dstride + r;
            d[0] = s0[c], d[1] = s1[c], d[2] = s2[c], d[3] = s3[c];
        }
    }
    for (; r < rows; r++)
        for (size_t c = 0; c < cols; c++)
            dst[c * dstride + r] = src[r * ld + c];
}

void nnl_kern_fill_sse2(nnl_kernels *k)
{
    fill_body_sse2(k);
    fill_pool_sse2(k);
    fill_wino_sse2(k);
    fill_ew_sse2(k);
    fill_reduce_sse2(k);
    k->transpose = transpose_sse2;
    k->gemm_ukr = gemm_ukr_sse2_4x8;
    k->gemm_mr = S2_MR;
    k->gemm_nr = S2_NR;
    k->gemm_mc = 128;
    k->gemm_kc = 256;
    k->gemm_nc = 1024;
    k->gemm_dkr = gemm_direct_sse2;
    k->gemm_dnr = GD_NV * VLEN;
    k->gemm_direct_max = (size_t)1 << 24;
}
#else
void nnl_kern_fill_sse2(nnl_kernels *k) { (void)k; }
#endif
