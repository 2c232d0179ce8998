/* Reductions, softmax and matrix products of tensors (tensor_reduce.c).
 *
 * A reduction along dim views the tensor as outer x len x inner (len the
 * size of dim). Along the last dim (inner == 1) each output comes from a
 * row kernel; along another dim the inner block is contiguous and is
 * accumulated row by row with vector kernels. Large reductions are split
 * into pieces fixed by the shape alone and run over nnl_parallel_for, so a
 * result does not depend on the thread count (nor, for the kernels of
 * kern_reduce.h, on the instruction set).
 *
 * Accuracy: sum, mean, var, std, prod, norm and cumsum accumulate in
 * double (each output is within a few double ulps of the exact value of
 * its float inputs, then rounded once to float); softmax, log_softmax and
 * logsumexp use the float kernels of docs/simd.md.
 *
 * dim is 0-based; NNL_DIM_ALL reduces over every element. The result drops
 * dim (an input of one dimension, or NNL_DIM_ALL, gives shape [1]); with
 * keepdim it keeps dim with size 1 (NNL_DIM_ALL: all dims 1). Every result
 * is a new tensor; NULL and err on failure. */
#ifndef NNL_TENSOR_REDUCE_H
#define NNL_TENSOR_REDUCE_H
#include <stddef.h>
#include "core/status.h"
#include "tensor/tensor.h"

#define NNL_DIM_ALL (-1)

typedef enum nnl_reduce {
    NNL_SUM, NNL_MEAN, NNL_MAX, NNL_MIN, NNL_ARGMAX,
    NNL_ARGMIN, NNL_PROD
} nnl_reduce;
/* "sum", "mean", ... */
const char *nnl_reduce_name(nnl_reduce op);

/* Reduces along dim (0-based) and drops it (a 1-D input gives shape [1]).
 * ARGMAX/ARGMIN give 0-based indices as floats (of the first extreme; the
 * first NaN counts as the extreme and max/min of values with a NaN are
 * NaN). MAX/MIN/ARGMAX/ARGMIN over a zero-length dimension fail; the sum
 * of nothing is 0, the mean NaN, the product 1. */
nnl_tensor *nnl_tensor_reduce(nnl_reduce op, const nnl_tensor *t, int dim, nnl_error *err);
/* As nnl_tensor_reduce, with NNL_DIM_ALL and keepdim. */
nnl_tensor *nnl_tensor_reduce_dim(nnl_reduce op, const nnl_tensor *t, int dim, int keepdim,
                                  nnl_error *err);
/* Values and 0-based indices (as floats) of the first maximum (want_min:
 * minimum) along dim, both of the reduced shape; *indices may be NULL
 * when not wanted. NNL_DIM_ALL gives flat indices. */
nnl_status nnl_tensor_extreme(const nnl_tensor *t, int dim, int keepdim, int want_min,
                              nnl_tensor **values, nnl_tensor **indices, nnl_error *err);
/* Variance along dim with Bessel's correction: sum((x - mean)^2) /
 * max(0, len - correction), PyTorch's default correction = 1; NaN when
 * that is 0. take_sqrt gives the standard deviation. */
nnl_tensor *nnl_tensor_var(const nnl_tensor *t, int dim, int keepdim, int correction,
                           int take_sqrt, nnl_error *err);
/* The p-norm (sum |x|^p)^(1/p) along dim; p > 0, p = INFINITY gives
 * max |x| (NaN if any is NaN). Fails for p <= 0 or NaN. */
nnl_tensor *nnl_tensor_norm(const nnl_tensor *t, double p, int dim, int keepdim,
                            nnl_error *err);
/* Cumulative sums along dim (the same shape), running in double. */
nnl_tensor *nnl_tensor_cumsum(const nnl_tensor *t, int dim, nnl_error *err);
/* log(sum(exp(x))) along dim, computed stably; -inf over an empty dim. */
nnl_tensor *nnl_tensor_logsumexp(const nnl_tensor *t, int dim, int keepdim, nnl_error *err);
/* Softmax and log-softmax along dim (t's shape); a slice holding a NaN
 * is all NaN. */
nnl_tensor *nnl_tensor_softmax(const nnl_tensor *t, int dim, nnl_error *err);
nnl_tensor *nnl_tensor_log_softmax(const nnl_tensor *t, int dim, nnl_error *err);

/* Reductions over all elements, in double: SUM, MEAN, PROD give *value;
 * MAX, MIN give *value and *index (flat, 0-based; index may be NULL);
 * ARGMAX, ARGMIN give *index (value may be NULL). The extremes of an
 * empty tensor are NNL_ERR_ARG. */
nnl_status nnl_tensor_reduce_all(nnl_reduce op, const nnl_tensor *t, double *value,
                                 size_t *index, nnl_error *err);
/* Variance (take_sqrt: standard deviation) and p-norm of all elements. */
nnl_status nnl_tensor_var_all(const nnl_tensor *t, int correction, int take_sqrt, double *out,
                              nnl_error *err);
nnl_status nnl_tensor_norm_all(const nnl_tensor *t, double p, double *out, nnl_error *err);
/* The older forms: the sum in double; max/min/argmax as above. */
double nnl_tensor_sum_all(const nnl_tensor *t);
nnl_status nnl_tensor_max_all(const nnl_tensor *t, float *out, nnl_error *err);
nnl_status nnl_tensor_min_all(const nnl_tensor *t, float *out, nnl_error *err);
nnl_status nnl_tensor_argmax_all(const nnl_tensor *t, size_t *out, nnl_error *err);

/* Matrix products on the GEMM of simd/gemm.h.
 *
 * nnl_tensor_matmul: 2-D a (m x k) times b (k x n); 1-D b is taken as
 * k x 1 and 1-D a as 1 x k, that dimension dropped from the result (both
 * 1-D: shape [1]). Operands with more dimensions are batches of matrices
 * over their leading dims, which broadcast (numpy rules; a batch of 1, or
 * a 2-D operand, is used for every matrix of the other): [b x m x k] times
 * [b x k x n] gives [b x m x n], [b x m x k] times [k x n] too.
 * Mismatches: "matmul: shapes [2x3] and [4x5] do not match (3 != 4)". */
nnl_tensor *nnl_tensor_matmul(const nnl_tensor *a, const nnl_tensor *b, nnl_error *err);
/* op(a) times op(b), op transposing the last two dims when ta (tb) is
 * set, without making the transpose: A^T G and G B^T for backward. A
 * transposed operand must have at least 2 dims. */
nnl_tensor *nnl_tensor_matmul_t(const nnl_tensor *a, const nnl_tensor *b, int ta, int tb,
                                nnl_error *err);
/* 2-D times 2-D only ("mm: needs 2-D tensors, got ..." otherwise). */
nnl_tensor *nnl_tensor_mm(const nnl_tensor *a, const nnl_tensor *b, nnl_error *err);
/* Inner product of two 1-D tensors of one length: shape [1]. */
nnl_tensor *nnl_tensor_dot(const nnl_tensor *a, const nnl_tensor *b, nnl_error *err);
/* Outer product of 1-D a (m) and b (n): m x n. */
nnl_tensor *nnl_tensor_outer(const nnl_tensor *a, const nnl_tensor *b, nnl_error *err);

#endif
