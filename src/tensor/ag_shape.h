/* Autograd forms of the shape operations (tensor_shape.h, and the rows,
 * select and reshape views of tensor.h): each computes as the plain
 * function does and, when an input needs gradients, records a node whose
 * backward puts the output's gradient back where the elements came from
 * (zeros elsewhere; gathered indices summed). Views stay views; the result
 * of a recorded view is a view with its own node.
 *
 * cat and stack record one node of up to NNL_AG_MAXIN_N inputs; more are
 * joined as a tree of such nodes (a stack of more then shows as "cat" of
 * unsqueezed inputs). A split records each piece as a narrow of the
 * input. */
#ifndef NNL_AG_SHAPE_H
#define NNL_AG_SHAPE_H
#include <stddef.h>
#include "core/status.h"
#include "tensor/tensor.h"

nnl_tensor *nnl_ag_transpose(const nnl_tensor *t, int d1, int d2, nnl_error *err);
nnl_tensor *nnl_ag_t(const nnl_tensor *t, nnl_error *err);
nnl_tensor *nnl_ag_permute(const nnl_tensor *t, const int *perm, nnl_error *err);
nnl_tensor *nnl_ag_narrow(const nnl_tensor *t, int dim, size_t start, size_t len,
                          nnl_error *err);
/* nnl_tensor_rows, recorded (t:rows in Lua). */
nnl_tensor *nnl_ag_rows(const nnl_tensor *t, size_t first, size_t count, nnl_error *err);
/* nnl_tensor_select_dim, recorded; dim 0 is t[i]. */
nnl_tensor *nnl_ag_select(const nnl_tensor *t, int dim, size_t i, nnl_error *err);
nnl_tensor *nnl_ag_index(const nnl_tensor *t, int dim, const size_t *idx, size_t n,
                         nnl_error *err);
nnl_tensor *nnl_ag_slice(const nnl_tensor *t, const nnl_slice *s, nnl_error *err);
nnl_tensor *nnl_ag_reshape(const nnl_tensor *t, int ndim, const long *shape, nnl_error *err);
nnl_tensor *nnl_ag_squeeze(const nnl_tensor *t, int dim, nnl_error *err);
nnl_tensor *nnl_ag_unsqueeze(const nnl_tensor *t, int dim, nnl_error *err);
nnl_tensor *nnl_ag_flatten(const nnl_tensor *t, nnl_error *err);
nnl_tensor *nnl_ag_cat(const nnl_tensor *const *ts, size_t n, int dim, nnl_error *err);
nnl_tensor *nnl_ag_stack(const nnl_tensor *const *ts, size_t n, int dim, nnl_error *err);
/* As nnl_tensor_split / nnl_tensor_chunk, each piece recorded. */
nnl_tensor **nnl_ag_split(const nnl_tensor *t, size_t size, int dim, size_t *n,
                          nnl_error *err);
nnl_tensor **nnl_ag_chunk(const nnl_tensor *t, size_t chunks, int dim, size_t *n,
                          nnl_error *err);

#endif
