/*
 * What GlobalAveragePooling2D and GlobalMaxPooling2D share: their option
 * list (keepdims) and their plan (images {h, w, c} per sample, below 2^31
 * floats, to {c} or {1, 1, c}). Their state is the pooling kinds'
 * (layer_pool2d.h: GlobalMaxPooling2D's winners in its arg buffer).
 */
#ifndef NNL_MODEL_LAYER_GLOBAL_POOL2D_H
#define NNL_MODEL_LAYER_GLOBAL_POOL2D_H

#include "model/layer.h"

enum { NNL_GLOBAL_POOL_O_KEEPDIMS, NNL_GLOBAL_POOL_O_COUNT };

extern const nnl_option nnl_global_pool2d_options[NNL_GLOBAL_POOL_O_COUNT];

/* The plan of a global pooling kind for per-sample input in: an error
 * naming the layer and its kind when in is not {height, width, channels},
 * is empty or has 2^31 floats or more (pool.h's limit, and that of the
 * int32 pixel indices); no weights. */
nnl_status nnl_global_pool2d_plan(const nnl_layer *l, const nnl_shape *in, nnl_shape *out,
                                  nnl_weight_spec *w, int *nw, nnl_error *err);

#endif
