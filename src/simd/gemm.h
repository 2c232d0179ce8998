/* GEMM: C = alpha * op(A) * op(B) + beta * C, float32, row-major.
 *
 * op(A) is m x k, op(B) is k x n, C is m x n. lda/ldb/ldc are row strides
 * in floats of the matrices as stored (A stored m x k when not transposed,
 * k x m when transposed). beta == 0 means C is not read (NaN in C does not
 * propagate), as in BLAS; alpha == 0 or k == 0 scales C without reading A
 * or B. C must not overlap A or B. */
#ifndef NNL_GEMM_H
#define NNL_GEMM_H
#include <stddef.h>
#include "core/status.h"

typedef enum nnl_trans { NNL_NOTRANS = 0, NNL_TRANS = 1 } nnl_trans;

/* Fails only when a work buffer cannot be allocated (NNL_ERR_NOMEM) or a
 * leading dimension is smaller than the row it strides (NNL_ERR_ARG). */
nnl_status nnl_gemm(nnl_trans ta, nnl_trans tb, size_t m, size_t n, size_t k,
                    float alpha, const float *a, size_t lda,
                    const float *b, size_t ldb,
                    float beta, float *c, size_t ldc, nnl_error *err);

/* What nnl_gemm_ex does to each element of C after the product, in the
 * same pass (while the C tile is still in cache):
 *   C[i][j] = act(alpha * AB[i][j] + beta * C[i][j] + bias[j]).
 * bias is n floats or NULL; act is an nnl_kact from simd/kernels.h
 * (NNL_KACT_LINEAR: none; NNL_KACT_SOFTMAX runs row-wise after the product);
 * act_param as for nnl_kernels.act_fwd. */
typedef struct nnl_gemm_epilogue {
    const float *bias;
    int act;
    float act_param;
} nnl_gemm_epilogue;

/* nnl_gemm with an optional epilogue (NULL: none). An act outside
 * nnl_kact is NNL_ERR_ARG. Uses the active kernel table and
 * nnl_threads_get() threads; the result does not depend on the thread
 * count (each element is computed by one thread in a fixed order). */
nnl_status nnl_gemm_ex(nnl_trans ta, nnl_trans tb, size_t m, size_t n, size_t k,
                       float alpha, const float *a, size_t lda,
                       const float *b, size_t ldb,
                       float beta, float *c, size_t ldc,
                       const nnl_gemm_epilogue *ep, nnl_error *err);

/* GEMM keeps its packing workspace (one buffer from nnl_malloc, the size
 * of the largest product so far, at most 256 MB) between calls, because
 * faulting in fresh pages costs more than a medium product. It counts in
 * nnl_alloc_live() until this frees it (safe at any time; the next call
 * allocates again). Call it before checking for leaks. */
void nnl_gemm_release_workspace(void);

#endif
