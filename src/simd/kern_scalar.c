/* The scalar reference kernels: kern_body.h over plain floats, and a plain
 * C GEMM micro-kernel. Every SIMD level is tested against these. Compiled
 * with no instruction-set flags and without floating-point contraction, so
 * a*b+c is two roundings here. */
#include "simd/kernels.h"

#include <stdint.h>
#include <math.h>
#include <string.h>

static inline int32_t sc_f2bits(float x)
{
    int32_t i;
    memcpy(&i, &x, sizeof i);
    return i;
}

static inline float sc_bits2f(int32_t i)
{
    float x;
    memcpy(&x, &i, sizeof x);
    return x;
}

/* As cvtps2dq: round to nearest even, NaN and out-of-range -> INT32_MIN. */
static inline int32_t sc_cvt_i(float x)
{
    if (!(x >= -2147483648.0f && x < 2147483648.0f))
        return INT32_MIN;
    return (int32_t)nearbyintf(x);
}

#define VF float
#define VI int32_t
#define VM int
#define VLEN 1
#define KSUF scalar
#define V_LOAD(p) (*(p))
#define V_STORE(p, v) (*(p) = (v))
#define V_SET1(x) ((float)(x))
#define V_ADD(a, b) ((a) + (b))
#define V_SUB(a, b) ((a) - (b))
#define V_MUL(a, b) ((a) * (b))
#define V_DIV(a, b) ((a) / (b))
#define V_FMA(a, b, c) ((a) * (b) + (c))
#define V_SQRT(a) sqrtf(a)
#define V_MIN(a, b) ((a) < (b) ? (a) : (b))
#define V_MAX(a, b) ((a) > (b) ? (a) : (b))
#define V_ABS(a) sc_bits2f(sc_f2bits(a) & 0x7fffffff)
#define V_COPYSIGN(m, s) sc_bits2f(sc_f2bits(m) | (sc_f2bits(s) & INT32_MIN))
#define V_LT(a, b) ((a) < (b))
#define V_GT(a, b) ((a) > (b))
#define V_EQ(a, b) ((a) == (b))
#define V_ISNAN(a) ((a) != (a))
#define V_SEL(m, a, b) ((m) ? (a) : (b))
#define V_CVT_I(a) sc_cvt_i(a)
#define V_I2F(i) ((float)(i))
#define V_ISET1(i) ((int32_t)(i))
#define V_IADD(a, b) ((int32_t)((uint32_t)(a) + (uint32_t)(b)))
#define V_ISUB(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)))
#define V_IAND(a, b) ((a) & (b))
#define V_IOR(a, b) ((a) | (b))
#define V_ISLL(i, n) ((int32_t)((uint32_t)(i) << (n)))
#define V_ISRL(i, n) ((int32_t)((uint32_t)(i) >> (n)))
#define V_ISRA(i, n) ((i) >> (n))
#define V_F2BITS(a) sc_f2bits(a)
#define V_BITS2F(i) sc_bits2f(i)

#define V_IXOR(a, b) ((a) ^ (b))
#define V_IMUL(a, b) ((int32_t)((uint32_t)(a) * (uint32_t)(b)))
#define V_IOTA 0

/* Integer lanes for kern_pool.h. */
#define V_ILOAD(p) (*(const int32_t *)(p))
#define V_ISTORE(p, v) (*(int32_t *)(p) = (v))
#define V_IEQ(a, b) ((a) == (b))
#define V_ISEL(m, a, b) ((m) ? (a) : (b))
#define V_ILOAD8(p) ((int32_t)*(const uint8_t *)(p))
#define V_ISTORE8(p, v) (*(uint8_t *)(p) = (uint8_t)(v))

#include "simd/kern_body.h"
#include "simd/kern_pool.h"
#include "simd/kern_wino.h"
#include "simd/kern_ew.h"

/* Double lanes for kern_reduce.h. */
#define VD double
#define VDLEN 1
#define VD_ZERO() 0.0
#define VD_SET1(x) ((double)(x))
#define VD_FROMF(p) ((double)*(p))
#define VD_LOAD(p) (*(p))
#define VD_STORE(p, v) (*(p) = (v))
#define VD_ADD(a, b) ((a) + (b))
#define VD_SUB(a, b) ((a) - (b))
#define VD_MUL(a, b) ((a) * (b))
#define VD_ABS(a) fabs(a)
#include "simd/kern_reduce.h"

/* The direct kernel (kern_direct.h): 4 rows of up to 4 columns. */
#define GD_NV 4
#define GD_MR(nv) 4
#define GD_MR_MAX 4
#include "simd/kern_direct.h"

#define SC_MR 4
#define SC_NR 4

/* GEMM micro-kernel, 4x4 accumulators in plain C. */
static void gemm_ukr_scalar_4x4(size_t kc, const float *ap, const float *bp, size_t ldb,
                                float *c, size_t ldc, float alpha, float beta)
{
    float acc[SC_MR][SC_NR] = {{0}};
    for (size_t p = 0; p < kc; p++) {
        for (int i = 0; i < SC_MR; i++)
            for (int j = 0; j < SC_NR; j++)
                acc[i][j] += ap[i] * bp[j];
        ap += SC_MR;
        bp += ldb;
    }
    for (int i = 0; i < SC_MR; i++)
        for (int j = 0; j < SC_NR; j++) {
            float *cp = c + (size_t)i * ldc + j;
            *cp = beta == 0.0f ? alpha * acc[i][j] : alpha * acc[i][j] + beta * *cp;
        }
}

static void transpose_scalar(const float *src, size_t ld, size_t rows, size_t cols, float *dst,
                             size_t dstride)
{
    for (size_t r = 0; r < rows; r++)
        for (size_t c = 0; c < cols; c++)
            dst[c * dstride + r] = src[r * ld + c];
}

void nnl_kern_fill_scalar(nnl_kernels *k)
{
    fill_body_scalar(k);
    fill_pool_scalar(k);
    fill_wino_scalar(k);
    fill_ew_scalar(k);
    fill_reduce_scalar(k);
    k->transpose = transpose_scalar;
    k->gemm_ukr = gemm_ukr_scalar_4x4;
    k->gemm_mr = SC_MR;
    k->gemm_nr = SC_NR;
    k->gemm_mc = 64;
    k->gemm_kc = 256;
    k->gemm_nc = 512;
    k->gemm_dkr = gemm_direct_scalar;
    k->gemm_dnr = GD_NV * VLEN;
    k->gemm_direct_max = (size_t)1 << 24;
}
