/* Tensor shapes: transposes, slices, gathers, joins and splits, and the
 * broadcasting copy (the C side of nn.Tensor's t, permute, narrow, select,
 * index, t[{...}], squeeze, stack, split, copy_ ...).
 *
 * Tensors are contiguous, so a result shares storage (a view) only where
 * the elements it keeps are one run of the input: a narrow or a slice that
 * restricts only the first dimension, a select of the first dimension, and
 * the reshapes (squeeze, unsqueeze, flatten). Every other result is a new
 * tensor. Each function says which.
 *
 * Dimensions and indices are 0-based. Errors name the operation and the
 * shapes; a failed call changes nothing. */
#ifndef NNL_TENSOR_SHAPE_H
#define NNL_TENSOR_SHAPE_H
#include <stddef.h>
#include "core/status.h"
#include "tensor/tensor.h"

/* Concatenation of n tensors along dim: all other dimensions must agree
 * and all must have the same ndim. A new tensor. */
nnl_tensor *nnl_tensor_cat(const nnl_tensor *const *ts, size_t n, int dim,
                           nnl_error *err);
/* The n tensors (all of one shape) joined along a new dimension dim
 * (0..ndim). A new tensor. */
nnl_tensor *nnl_tensor_stack(const nnl_tensor *const *ts, size_t n, int dim,
                             nnl_error *err);

/* Dimensions d1 and d2 swapped. A new tensor (a copy even when d1 == d2). */
nnl_tensor *nnl_tensor_transpose(const nnl_tensor *t, int d1, int d2, nnl_error *err);
/* The transpose of a 2-D tensor; a copy of a 1-D one. A new tensor. */
nnl_tensor *nnl_tensor_t(const nnl_tensor *t, nnl_error *err);
/* Result dimension i is input dimension perm[i]; perm has t->ndim entries,
 * each dimension once. A new tensor. */
nnl_tensor *nnl_tensor_permute(const nnl_tensor *t, const int *perm, nnl_error *err);

/* Elements start..start+len-1 of dimension dim: a view when dim is 0, else
 * a new tensor. */
nnl_tensor *nnl_tensor_narrow(const nnl_tensor *t, int dim, size_t start, size_t len,
                              nnl_error *err);
/* Element i of dimension dim, that dimension removed (a 1-D input gives
 * shape [1]): a view when dim is 0, else a new tensor. */
nnl_tensor *nnl_tensor_select_dim(const nnl_tensor *t, int dim, size_t i, nnl_error *err);
/* The entries idx[0..n) of dimension dim, in that order (repeats allowed):
 * dimension dim gets size n. A new tensor. */
nnl_tensor *nnl_tensor_index(const nnl_tensor *t, int dim, const size_t *idx, size_t n,
                             nnl_error *err);

/* A region of a tensor, Torch7's t[{...}]: for each of its first ndim
 * dimensions a range start..start+len-1, or (drop != 0) one index start
 * whose dimension the result drops; dimensions from ndim on are whole. */
typedef struct nnl_slice {
    int ndim;
    size_t start[NNL_MAX_DIMS];
    size_t len[NNL_MAX_DIMS];
    int drop[NNL_MAX_DIMS];
} nnl_slice;

/* The region's shape (every dimension dropped: [1]); fails with
 * NNL_ERR_RANGE naming op when the region does not fit t. */
nnl_status nnl_slice_shape(const nnl_tensor *t, const nnl_slice *s, const char *op,
                           int *ndim, size_t *shape, nnl_error *err);
/* The region as a tensor: a view when only dimension 0 is restricted (the
 * others whole), else a new tensor. */
nnl_tensor *nnl_tensor_slice(const nnl_tensor *t, const nnl_slice *s, nnl_error *err);
/* Writes v into every element of the region; bumps t's version. */
nnl_status nnl_tensor_slice_fill(nnl_tensor *t, const nnl_slice *s, float v, nnl_error *err);
/* Writes src, broadcast (numpy rules) to the region's shape, into the
 * region; src may share storage with t. Bumps t's version. */
nnl_status nnl_tensor_slice_assign(nnl_tensor *t, const nnl_slice *s, const nnl_tensor *src,
                                   nnl_error *err);

/* Views without dimensions of size 1 (all of them when dim < 0, else just
 * dim, which is then left as it is when its size is not 1; a tensor of
 * only 1s keeps shape [1]); with a dimension of size 1 inserted before
 * position dim (0..ndim); as one dimension. */
nnl_tensor *nnl_tensor_squeeze(const nnl_tensor *t, int dim, nnl_error *err);
nnl_tensor *nnl_tensor_unsqueeze(const nnl_tensor *t, int dim, nnl_error *err);
nnl_tensor *nnl_tensor_flatten(const nnl_tensor *t, nnl_error *err);

/* Pieces of t along dim of `size` elements each (the last may be
 * shorter; an empty dimension gives one empty piece): views when dim is
 * 0, else new tensors. Returns an nnl_malloc'd array of *n tensors; the
 * caller frees each and the array (nnl_free). size must be >= 1. */
nnl_tensor **nnl_tensor_split(const nnl_tensor *t, size_t size, int dim, size_t *n,
                              nnl_error *err);
/* nnl_tensor_split into pieces of ceil(len / chunks): at most `chunks`
 * pieces (fewer when len is small, as PyTorch). chunks >= 1. */
nnl_tensor **nnl_tensor_chunk(const nnl_tensor *t, size_t chunks, int dim, size_t *n,
                              nnl_error *err);

/* Copies src, broadcast (numpy rules) to dst's shape, into dst; src may
 * share storage with dst. Bumps dst's version. */
nnl_status nnl_tensor_copy_bcast(nnl_tensor *dst, const nnl_tensor *src, nnl_error *err);

#endif
