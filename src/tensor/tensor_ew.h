/* Element-wise operations on tensors, with numpy broadcasting: binary
 * arithmetic, pow, maximum/minimum and comparisons (0/1 floats), their
 * scalar and in-place forms, unary math, activations, clamp, where and
 * masked_fill. Included by tensor/tensor.h.
 *
 * Broadcasting (numpy's rules): shapes are aligned at their last
 * dimensions, the shorter one padded with leading 1s; each pair of sizes
 * must be equal or one of them 1, and the result has the larger. A size 0
 * broadcasts with 0 or 1. Up to NNL_MAX_DIMS dimensions.
 *
 * Every function computes through the active SIMD kernel table
 * (simd/kernels.h), splitting large results over the thread pool in a
 * way that does not change any element's value (each element is computed
 * alone). Results are new tensors unless the name ends in `_` (in place:
 * those bump the storage version). A failed call changes nothing. */
#ifndef NNL_TENSOR_EW_H
#define NNL_TENSOR_EW_H
#include <stddef.h>
#include "core/status.h"
#include "simd/kernels.h"
#include "tensor/tensor.h"

/* Binary ops, in the order (and with the values) of the kernels' nnl_kbin.
 * Comparisons give 1 or 0; NaN compares false but for NNL_NE.
 * NNL_MAXIMUM/NNL_MINIMUM propagate a NaN of either operand. */
typedef enum nnl_binop {
    NNL_ADD = NNL_KBIN_ADD,
    NNL_SUB = NNL_KBIN_SUB,
    NNL_MUL = NNL_KBIN_MUL,
    NNL_DIV = NNL_KBIN_DIV,
    NNL_POW = NNL_KBIN_POW,
    NNL_MAXIMUM = NNL_KBIN_MAX,
    NNL_MINIMUM = NNL_KBIN_MIN,
    NNL_GT = NNL_KBIN_GT,
    NNL_GE = NNL_KBIN_GE,
    NNL_LT = NNL_KBIN_LT,
    NNL_LE = NNL_KBIN_LE,
    NNL_EQ = NNL_KBIN_EQ,
    NNL_NE = NNL_KBIN_NE,
    NNL_BINOP_COUNT
} nnl_binop;
/* "add", "sub", "mul", "div", "pow", "maximum", "minimum", "gt", ... */
const char *nnl_binop_name(nnl_binop op);
/* Whether op is a comparison (its result is a constant for autograd). */
int nnl_binop_is_compare(nnl_binop op);

/* The broadcast shape of (nda, sa) and (ndb, sb) into (*nd, out), or
 * NNL_ERR_SHAPE "<fn>: shapes [2x3] and [4] do not broadcast". */
nnl_status nnl_broadcast_shape(const char *fn, int nda, const size_t *sa, int ndb,
                               const size_t *sb, int *nd, size_t *out, nnl_error *err);

/* a op b, broadcast. Fast paths: equal shapes (one kernel call), an
 * operand of one element, a row vector (a bias), a column vector, and
 * contiguous inner runs otherwise. A row vector (1-D of a's last size, or
 * 1 x n) over a matrix is the case model code relies on. */
nnl_tensor *nnl_tensor_binop(nnl_binop op, const nnl_tensor *a, const nnl_tensor *b,
                             nnl_error *err);
/* t op s (scalar_left == 0) or s op t (scalar_left != 0); bitwise the
 * same as with a one-element tensor holding s. */
nnl_tensor *nnl_tensor_binop_scalar(nnl_binop op, const nnl_tensor *t, float s,
                                    int scalar_left, nnl_error *err);
/* In place: t = t op x, where x must broadcast to t's shape (t never
 * grows: "add_: shape [2x3] does not broadcast to the tensor's shape
 * [3]"); x may be t itself or share its storage exactly. */
nnl_status nnl_tensor_binop_(nnl_binop op, nnl_tensor *t, const nnl_tensor *x, nnl_error *err);
nnl_status nnl_tensor_binop_scalar_(nnl_binop op, nnl_tensor *t, float s, nnl_error *err);
/* t += alpha * x in place (torch's add_(x, alpha)): x broadcast to t;
 * alpha * x is rounded before the add, as torch does. */
nnl_status nnl_tensor_add_scaled_(nnl_tensor *t, const nnl_tensor *x, float alpha,
                                  nnl_error *err);

/* Unary ops. NNL_ROUND rounds half to even (as torch and numpy); sign
 * gives +-1, or x for +-0 and NaN; rsqrt is 1 / sqrt(x). */
typedef enum nnl_unop {
    NNL_NEG = 0,
    NNL_EXP,
    NNL_LOG,
    NNL_LOG1P,
    NNL_SQRT,
    NNL_RSQRT,
    NNL_ABS,
    NNL_SIGN,
    NNL_FLOOR,
    NNL_CEIL,
    NNL_ROUND,
    NNL_SIN,
    NNL_COS,
    NNL_TANH,
    NNL_SIGMOID,
    NNL_RELU,
    NNL_UNOP_COUNT
} nnl_unop;
/* "neg", "exp", ... */
const char *nnl_unop_name(nnl_unop op);
/* f(t), a new tensor. */
nnl_tensor *nnl_tensor_unop(nnl_unop op, const nnl_tensor *t, nnl_error *err);
/* t = f(t) in place. */
nnl_status nnl_tensor_unop_(nnl_unop op, nnl_tensor *t, nnl_error *err);
/* -t, a new tensor. */
nnl_tensor *nnl_tensor_neg(const nnl_tensor *t, nnl_error *err);

/* The activation act (a kernel op of simd/kernels.h, as model/activation.h
 * numbers them) with its parameter, element-wise; softmax is row-wise and
 * refused here (NNL_ERR_ARG). */
nnl_tensor *nnl_tensor_act(nnl_kact act, float param, const nnl_tensor *t, nnl_error *err);

/* min(max(t, lo), hi) (torch.clamp): an absent bound is -INFINITY or
 * INFINITY; NaN stays NaN; lo > hi gives hi everywhere. */
nnl_tensor *nnl_tensor_clamp(const nnl_tensor *t, float lo, float hi, nnl_error *err);
nnl_status nnl_tensor_clamp_(nnl_tensor *t, float lo, float hi, nnl_error *err);

/* cond != 0 ? a : b, the three broadcast together (a NaN condition counts
 * as true, as numpy's nonzero). */
nnl_tensor *nnl_tensor_where(const nnl_tensor *cond, const nnl_tensor *a, const nnl_tensor *b,
                             nnl_error *err);
/* t with v where mask != 0; mask broadcasts to t's shape (the result has
 * t's shape). */
nnl_tensor *nnl_tensor_masked_fill(const nnl_tensor *t, const nnl_tensor *mask, float v,
                                   nnl_error *err);

#endif
