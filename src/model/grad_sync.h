/* Summing a training step's gradients over the model's ranks (m->comm),
 * in buckets that start while the backward pass is still running: model.c
 * calls nnl_sync_layer as soon as a layer's gradients are final (the
 * backward pass runs from the last layer down, so the last layers' buckets
 * go first and travel while the first layers still compute), and
 * nnl_sync_end after the first layer. Large arrays are summed in place,
 * one bucket each; small ones (biases, small kernels) are copied into the
 * model's staging buffer and go together, so a step does not pay one
 * latency per bias. The non-trainable state of the layers (moving
 * statistics, updated by the forward pass on each rank's own rows) is
 * averaged in the last bucket, so that it too is the same on all ranks.
 * Internal to the model layer. */
#ifndef NNL_GRAD_SYNC_H
#define NNL_GRAD_SYNC_H
#include "model/model.h"

/* Sizes the staging buffer for m's arrays (grows only). */
nnl_status nnl_sync_reserve(nnl_model *m, nnl_error *err);
void nnl_sync_begin(nnl_model *m);
/* Layer i's gradients are final. */
nnl_status nnl_sync_layer(nnl_model *m, size_t i, nnl_error *err);
/* Every layer's are: starts what is left, waits, and puts the staged sums
 * back into the gradients and state. */
nnl_status nnl_sync_end(nnl_model *m, nnl_error *err);

/* A step that failed in its backward pass: waits for the buckets it
 * started (the other ranks sum them too), so that none is left writing
 * into the model's arrays; the error is the caller's. */
void nnl_sync_abandon(nnl_model *m);

#endif
