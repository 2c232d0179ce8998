/* Tensors: float32, row-major, contiguous, 1 to 8 dimensions.
 *
 * A tensor is a small header (shape, a data pointer) over reference-counted
 * storage. Views (a range of rows, a reshape) make a new header over the
 * same storage, so they stay valid after the tensor they came from is freed.
 * Every view of a contiguous tensor by rows or by reshape is contiguous, so
 * all kernels see one flat array of numel floats.
 *
 * Ownership: nnl_tensor_new and every function returning nnl_tensor* give
 * the caller one header it must release with nnl_tensor_free. Storage is
 * freed when its last header is freed.
 *
 * Errors: functions returning a pointer return NULL and fill err; functions
 * returning nnl_status fill err. Messages name the operation and shapes. */
#ifndef NNL_TENSOR_H
#define NNL_TENSOR_H

#include <stddef.h>
#include "core/status.h"

#define NNL_MAX_DIMS 8

typedef struct nnl_storage {
    float *data;          /* owned; nnl_malloc'd */
    size_t size;          /* number of floats */
    long refcount;        /* headers pointing here */
    /* Bumped by every in-place change (nnl_tensor_bump_version): autograd
     * refuses a backward through a value that changed after it was saved. */
    unsigned long version;
} nnl_storage;

struct nnl_agnode;

typedef struct nnl_tensor {
    nnl_storage *storage; /* shared; one reference held by this header */
    float *data;          /* first element: storage->data + offset */
    int ndim;             /* 1..NNL_MAX_DIMS */
    size_t shape[NNL_MAX_DIMS];
    size_t numel;         /* product of shape */
    /* Autograd (tensor/autograd.h): the node that made this tensor, or for
     * a leaf whose gradient is wanted its accumulator; NULL for a tensor
     * outside every graph. One reference, released by nnl_tensor_free. */
    struct nnl_agnode *node;
} nnl_tensor;


/* Writes "[2x3]"-style text of t's shape into buf (always terminated);
 * returns buf. For error messages. */
char *nnl_shape_str(const nnl_tensor *t, char *buf, size_t size);
/* As nnl_shape_str for a raw shape. */
char *nnl_shape_str_raw(int ndim, const size_t *shape, char *buf, size_t size);

/* A new zero-filled tensor. ndim must be 1..NNL_MAX_DIMS; a dimension may be 0.
 * Fails (NNL_ERR_ARG) when the byte size overflows or exceeds the
 * allocation limit, NNL_ERR_NOMEM when allocation fails. */
nnl_tensor *nnl_tensor_new(int ndim, const size_t *shape, nnl_error *err);
/* Convenience forms of nnl_tensor_new. */
nnl_tensor *nnl_tensor_new1(size_t d0, nnl_error *err);
nnl_tensor *nnl_tensor_new2(size_t d0, size_t d1, nnl_error *err);
/* A new tensor of the same shape as t (zero-filled). */
nnl_tensor *nnl_tensor_new_like(const nnl_tensor *t, nnl_error *err);
/* Deep copy. */
nnl_tensor *nnl_tensor_clone(const nnl_tensor *t, nnl_error *err);
/* Releases the header, its storage reference and its autograd node
 * reference. NULL does nothing. */
void nnl_tensor_free(nnl_tensor *t);
/* A new header of the same shape over the same storage (no autograd node):
 * what a saved tensor or a second handle holds. */
nnl_tensor *nnl_tensor_view(const nnl_tensor *t, nnl_error *err);
/* Records an in-place change of t's storage (see nnl_storage.version). */
void nnl_tensor_bump_version(nnl_tensor *t);

/* Element i (0-based) along the first dimension of t; the sub-tensor of
 * rank ndim-1 sharing storage. t must have ndim >= 2. */
nnl_tensor *nnl_tensor_select(const nnl_tensor *t, size_t i, nnl_error *err);
/* Rows first..first+count-1 (0-based) along dimension 0, sharing storage.
 * count may be 0. */
nnl_tensor *nnl_tensor_rows(const nnl_tensor *t, size_t first, size_t count,
                            nnl_error *err);
/* A view with a new shape of the same numel. At most one entry of shape may
 * be -1 and is inferred. */
nnl_tensor *nnl_tensor_reshape(const nnl_tensor *t, int ndim, const long *shape,
                               nnl_error *err);

/* Flat offset of a multi-index (0-based, idx has t->ndim entries), or
 * NNL_ERR_RANGE naming the dimension and bound. */
nnl_status nnl_tensor_offset(const nnl_tensor *t, const size_t *idx,
                             size_t *offset, nnl_error *err);

/* Filling. */
void nnl_tensor_fill(nnl_tensor *t, float v);
/* Copies src into dst; shapes must have the same numel. */
nnl_status nnl_tensor_copy(nnl_tensor *dst, const nnl_tensor *src, nnl_error *err);

/* A new tensor whose data is not initialised: for results that are
 * written in full (nnl_tensor_new's checks and errors). */
nnl_tensor *nnl_tensor_new_uninit(int ndim, const size_t *shape, nnl_error *err);

/* Element-wise operations with numpy broadcasting (binop, unop, act,
 * clamp, where, ...): their own header, included here so that every user
 * of tensors has them. */
#include "tensor/tensor_ew.h"

/* Reductions, softmax and matrix products (nnl_tensor_matmul,
 * nnl_tensor_reduce, ...): tensor/tensor_reduce.h, included at the end of
 * this file. */

/* Concatenation (nnl_tensor_cat), transposes, slices and the other shape
 * operations: tensor/tensor_shape.h, included at the end of this file. */

/* Filling from the global generator (core/rng.h). */
void nnl_tensor_rand(nnl_tensor *t);   /* uniform [0,1) */
void nnl_tensor_randn(nnl_tensor *t);  /* standard normal */

/* Ranges: 0..n-1; n points from a to b inclusive (n >= 1); identity n x n. */
nnl_tensor *nnl_tensor_arange(size_t n, nnl_error *err);
nnl_tensor *nnl_tensor_linspace(double a, double b, size_t n, nnl_error *err);
nnl_tensor *nnl_tensor_eye(size_t n, nnl_error *err);

/* tensor_make.c. The largest count of integers float32 holds exactly (2^24). */
#define NNL_TENSOR_EXACT_INT 16777216L
/* Fills t with integers lo..hi inclusive, uniform (unbiased), from the
 * global generator in element order. Needs lo <= hi and hi - lo < 2^32 - 1;
 * values beyond +-2^24 are rounded to float32. */
void nnl_tensor_randint(nnl_tensor *t, long lo, long hi);
/* A random permutation of 0..n-1 (1-D) from the global generator; n at
 * most NNL_TENSOR_EXACT_INT (NNL_ERR_ARG above). */
nnl_tensor *nnl_tensor_randperm(size_t n, nnl_error *err);
/* start, start + step, ... while before stop (stop excluded), numpy's and
 * torch's semantics: ceil((stop - start) / step) elements, none when that
 * is <= 0; each value start + i * step rounded to float32. step may be
 * fractional or negative but not 0 (NNL_ERR_ARG, as non-finite values). */
nnl_tensor *nnl_tensor_arange_step(double start, double stop, double step, nnl_error *err);

#include "tensor/tensor_shape.h"
#include "tensor/tensor_reduce.h"

#endif
