/* The element-wise operations of tensor_ew.h on the autograd tape: each
 * nnl_ag_* computes what its nnl_tensor_* twin computes and, when
 * recording is on and an input needs gradients, records the op (see
 * tensor/autograd.h). The Lua binding calls these forms.
 *
 * Gradients (broadcast inputs get theirs summed back to their shape):
 *   add, sub, mul, div as usual; pow: d/da = b a^(b-1), d/db = a^b log a
 *   (0 where a^b is 0, as PyTorch); maximum/minimum: g to the larger
 *   (smaller) operand, halved on ties (PyTorch); neg, exp, log, log1p,
 *   sqrt, rsqrt, abs (sign(x), 0 at 0), sin, cos, tanh, sigmoid, relu (0
 *   at 0), act (the activation kernels' derivative); clamp: g where
 *   lo <= x <= hi, else 0; where: g to a where cond holds, to b elsewhere
 *   (cond gets none); masked_fill: g where the mask is 0.
 * Comparisons, sign, floor, ceil and round are constants: not recorded.
 *
 * In-place forms change a tensor the tape does not see, so while
 * recording they refuse a tensor that needs gradients ("add_: in-place
 * change of a tensor that requires grad (use nn.no_grad or the
 * out-of-place form)") and an argument that does (its gradient would be
 * lost). */
#ifndef NNL_AG_EW_H
#define NNL_AG_EW_H
#include "core/status.h"
#include "tensor/tensor.h"

nnl_tensor *nnl_ag_binop(nnl_binop op, const nnl_tensor *a, const nnl_tensor *b,
                         nnl_error *err);
nnl_tensor *nnl_ag_binop_scalar(nnl_binop op, const nnl_tensor *t, float s, int scalar_left,
                                nnl_error *err);
nnl_tensor *nnl_ag_unop(nnl_unop op, const nnl_tensor *t, nnl_error *err);
nnl_tensor *nnl_ag_neg(const nnl_tensor *t, nnl_error *err);
nnl_tensor *nnl_ag_act(nnl_kact act, float param, const nnl_tensor *t, nnl_error *err);
nnl_tensor *nnl_ag_clamp(const nnl_tensor *t, float lo, float hi, nnl_error *err);
nnl_tensor *nnl_ag_where(const nnl_tensor *cond, const nnl_tensor *a, const nnl_tensor *b,
                         nnl_error *err);
nnl_tensor *nnl_ag_masked_fill(const nnl_tensor *t, const nnl_tensor *mask, float v,
                               nnl_error *err);

/* In place (tensor_ew.h), refused as said above. */
nnl_status nnl_ag_binop_(nnl_binop op, nnl_tensor *t, const nnl_tensor *x, nnl_error *err);
nnl_status nnl_ag_binop_scalar_(nnl_binop op, nnl_tensor *t, float s, nnl_error *err);
nnl_status nnl_ag_add_scaled_(nnl_tensor *t, const nnl_tensor *x, float alpha, nnl_error *err);
nnl_status nnl_ag_unop_(nnl_unop op, nnl_tensor *t, nnl_error *err);
nnl_status nnl_ag_clamp_(nnl_tensor *t, float lo, float hi, nnl_error *err);

#endif
