/* The built-in losses as functions on tensors (nn.losses.mse(y_true,
 * y_pred)), recorded on the autograd tape: one node whose backward is the
 * gradient the loss kernel computes with the loss (loss.c), so a custom
 * loop pays no more for its loss than fit does. */
#ifndef NNL_LOSS_TAPE_H
#define NNL_LOSS_TAPE_H
#include "core/status.h"
#include "tensor/tensor.h"

/* The mean loss (nnl_loss) of y_pred against y_true as a one-element
 * tensor. y_pred is rows x cols (1-D: rows of one column); y_true has its
 * shape (or N x 1 / N for one column), or one class index per row for the
 * sparse loss. Only y_pred is differentiated: a y_true that requires grad
 * is refused. Messages do not name the loss: the caller does. */
nnl_tensor *nnl_loss_call(int loss, const nnl_tensor *y_true, const nnl_tensor *y_pred,
                          nnl_error *err);

#endif
