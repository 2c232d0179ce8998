/* Layers and models on the autograd tape: layer(x) and model(x) compute a
 * forward like predict does, and when x or a weight requires gradients
 * record it as one node per layer call (inputs: x and the layer's
 * trainable weights, whose tensors are tape leaves), whose backward is the
 * layer's own backward kernel. So a model trained by fit can be
 * differentiated by hand, and custom losses and loops work on it.
 *
 * A recorded call keeps views of its input and output; its backward
 * refuses (a clear error, never a wrong gradient) when the layer was freed,
 * ran again since (its scratch, Dropout mask or batch statistics are no
 * longer this call's), had its weights changed (an optimizer step), or
 * when the call was an inference call of a kind whose training forward
 * differs (Dropout, BatchNormalization). */
#ifndef NNL_MODEL_TAPE_H
#define NNL_MODEL_TAPE_H
#include "core/status.h"
#include "tensor/tensor.h"
#include "model/layer.h"
#include "model/model.h"

/* y = l(x) for x of shape N x (per-sample input shape); builds an unbuilt
 * layer for x's shape (weights from the global generator). train selects
 * training behaviour. A new tensor N x output shape. */
nnl_tensor *nnl_layer_call(nnl_layer *l, const nnl_tensor *x, int train, nnl_error *err);
/* y = m(x): the layers' calls in turn (the model is built from x when it
 * is not). */
nnl_tensor *nnl_model_call(nnl_model *m, const nnl_tensor *x, int train, nnl_error *err);

#endif
