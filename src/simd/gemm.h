/* GEMM: C = alpha * op(A) * op(B) + beta * C, float32, row-major.
 *
 * op(A) is m x k, op(B) is k x n, C is m x n. lda/ldb/ldc are row strides
 * in floats of the matrices as stored (A stored m x k when not transposed,
 * k x m when transposed). beta == 0 means C is not read (NaN in C does not
 * propagate), as in BLAS. */
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

#endif
