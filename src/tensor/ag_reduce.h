/* Differentiable reductions, softmax and products: the nnl_ag_* forms of
 * tensor_reduce.h, which record on the autograd tape (tensor/autograd.h)
 * when an input needs gradients, and otherwise are the plain operation.
 *
 * dim is 0-based or NNL_DIM_ALL (all elements: a result of shape [1], or
 * all ones with keepdim), as in tensor_reduce.h. Results are new tensors
 * the caller frees; NULL and err on failure.
 *
 * Gradients: sum and mean spread g over the slice; max/min send it to the
 * first extreme only (the index the forward returned); prod to each
 * element the product of the others (also with zeros in the slice); norm
 * of a zero vector has gradient 0; the inf-norm splits g evenly between
 * the elements of largest |x|; std of a constant slice gives NaN (0/0) as
 * in PyTorch. */
#ifndef NNL_AG_REDUCE_H
#define NNL_AG_REDUCE_H
#include "core/status.h"
#include "tensor/tensor.h"
#include "tensor/tensor_reduce.h"

nnl_tensor *nnl_ag_sum(const nnl_tensor *t, int dim, int keepdim, nnl_error *err);
nnl_tensor *nnl_ag_mean(const nnl_tensor *t, int dim, int keepdim, nnl_error *err);
nnl_tensor *nnl_ag_prod(const nnl_tensor *t, int dim, int keepdim, nnl_error *err);
/* Values (recorded) and 0-based indices as floats (a constant; indices may
 * be NULL) of the first maximum (want_min: minimum). */
nnl_status nnl_ag_extreme(const nnl_tensor *t, int dim, int keepdim, int want_min,
                          nnl_tensor **values, nnl_tensor **indices, nnl_error *err);
nnl_tensor *nnl_ag_var(const nnl_tensor *t, int dim, int keepdim, int correction,
                       nnl_error *err);
nnl_tensor *nnl_ag_std(const nnl_tensor *t, int dim, int keepdim, int correction,
                       nnl_error *err);
nnl_tensor *nnl_ag_norm(const nnl_tensor *t, double p, int dim, int keepdim, nnl_error *err);
nnl_tensor *nnl_ag_cumsum(const nnl_tensor *t, int dim, nnl_error *err);
nnl_tensor *nnl_ag_logsumexp(const nnl_tensor *t, int dim, int keepdim, nnl_error *err);
nnl_tensor *nnl_ag_softmax(const nnl_tensor *t, int dim, nnl_error *err);
nnl_tensor *nnl_ag_log_softmax(const nnl_tensor *t, int dim, nnl_error *err);

/* Products (shapes as nnl_tensor_matmul and friends). */
nnl_tensor *nnl_ag_matmul(const nnl_tensor *a, const nnl_tensor *b, nnl_error *err);
nnl_tensor *nnl_ag_mm(const nnl_tensor *a, const nnl_tensor *b, nnl_error *err);
nnl_tensor *nnl_ag_dot(const nnl_tensor *a, const nnl_tensor *b, nnl_error *err);
nnl_tensor *nnl_ag_outer(const nnl_tensor *a, const nnl_tensor *b, nnl_error *err);

#endif
