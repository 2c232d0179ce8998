/* Losses, averaged as Keras does: each sample's loss is the mean over the
 * last dimension (mse, mae, huber, binary cross-entropy) or the sum over
 * classes (categorical cross-entropies), and the batch loss is the mean
 * over samples (and over any leading dimensions).
 *
 * Predictions are rows x cols. Targets are rows x cols, except for
 * sparse_categorical_crossentropy where they are one class index per row,
 * 1-based (1..cols), stored as floats.
 *
 * Fused forms: when `logits` is given (the pre-activation of a final
 * sigmoid for binary cross-entropy, of a final softmax for the categorical
 * ones), the loss is computed from the logits in its stable form and the
 * gradient is with respect to the logits (pred - target, scaled). Without
 * logits, probabilities are clipped to [1e-7, 1 - 1e-7] as Keras does. */
#ifndef NNL_LOSS_H
#define NNL_LOSS_H
#include <stddef.h>
#include "core/status.h"

typedef enum nnl_loss {
    NNL_LOSS_MSE = 0,
    NNL_LOSS_MAE,
    NNL_LOSS_HUBER,                 /* delta 1.0 */
    NNL_LOSS_BCE,                   /* binary_crossentropy */
    NNL_LOSS_CCE,                   /* categorical_crossentropy */
    NNL_LOSS_SCCE,                  /* sparse_categorical_crossentropy */
    NNL_LOSS_COUNT
} nnl_loss;

/* A loss computed by the model's host (a Lua function given to compile;
 * model.h nnl_model_host): not a name users give, but what a model file
 * records as "custom". */
#define NNL_LOSS_CUSTOM NNL_LOSS_COUNT

/* What a loss's targets may hold, checked before training on them. */
typedef enum nnl_loss_targets {
    NNL_TARGETS_REAL,  /* any finite number (regression) */
    NNL_TARGETS_PROB,  /* each in 0..1 (a probability, usually 0 or 1) */
    NNL_TARGETS_DIST,  /* rows of values in 0..1 summing to 1 (one-hot) */
    NNL_TARGETS_CLASS  /* one class index 1..k per row */
} nnl_loss_targets;

/* A loss by name: read by the binding, model files and help. */
typedef struct nnl_loss_desc {
    const char *name;             /* Keras's name */
    const char *alias;            /* Keras's long name, or NULL */
    const char *help;
    nnl_loss_targets targets;
} nnl_loss_desc;
const nnl_loss_desc *nnl_loss_desc_of(int loss);
/* Name -> enum (also accepts Keras's long names "mean_squared_error",
 * "mean_absolute_error"); -1 when unknown. */
int nnl_loss_from_name(const char *name);
const char *nnl_loss_name(int loss);
const char *nnl_loss_names(void);
/* Which final activation fuses with this loss (an nnl_act), or -1. */
int nnl_loss_fused_act(int loss);

/* Checks targets y for the loss: rows x cols values (rows for the sparse
 * loss, cols its classes). A value outside the loss's domain is
 * NNL_ERR_RANGE naming it, what was expected and how to convert (labels
 * 1..2 for binary cross-entropy: y - 1; class indices for the one-hot
 * loss: the sparse loss or nn.data.one_hot). who starts the message. */
nnl_status nnl_loss_check_targets(int loss, const float *y, size_t rows, size_t cols,
                                  const char *who, nnl_error *err);

/* Mean loss over rows into *loss (accumulated in double). When grad is not
 * NULL it receives dL/dpred (or dL/dlogits when logits is given), rows x
 * cols, for the mean loss. Labels out of 1..cols for the sparse loss are
 * NNL_ERR_RANGE naming the row and value. */
nnl_status nnl_loss_eval(int loss, size_t rows, size_t cols, const float *pred,
                         const float *logits, const float *target, float *grad,
                         double *out, nnl_error *err);

#endif
