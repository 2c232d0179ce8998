/*
 * What MaxPooling2D and AveragePooling2D share: their options (Keras's
 * pool_size, strides defaulting to the pool size, padding) and the window
 * geometry of a layer made with them. The two kinds differ only in the
 * window operation and its state.
 */
#ifndef NNL_MODEL_LAYER_POOL2D_H
#define NNL_MODEL_LAYER_POOL2D_H

#include "model/layer.h"
#include "model/pool.h"

enum { NNL_POOL2D_O_POOL, NNL_POOL2D_O_STRIDES, NNL_POOL2D_O_PADDING, NNL_POOL2D_O_COUNT };

extern const nnl_option nnl_pool2d_options[NNL_POOL2D_O_COUNT];

/* The geometry of pooling layer l (options nnl_pool2d_options) on
 * per-sample input in: an error naming the layer when in is not
 * {height, width, channels} or the window does not fit. */
nnl_status nnl_pool2d_layer_geometry(const nnl_layer *l, const nnl_shape *in,
                                     nnl_pool2d_geom *g, nnl_error *err);

#endif
