/* MaxPooling2D: The largest value of each window of each channel.
 * Channels last ({h, w, c} per sample), pool_size and strides as a
 * number or {h, w} (strides default to the pool size, as Keras), padding
 * "valid" or "same" (padded pixels never count). The windows run on
 * model/pool.h's vectorised kernels. Its reserve, forward and backward
 * are also MaxPooling1D's (layer_pool2d.h): they see only the geometry. */
#include "model/layer.h"

#include <stdint.h>
#include "model/layer_pool2d.h"
#include "model/pool.h"

/* The winners, as pool.h keeps them (a byte per output for the Keras
 * default of strides = pool size). */
nnl_status nnl_maxpool_layer_reserve(nnl_layer *l, size_t batch, nnl_error *err)
{
    nnl_pool_layer_state *s = l->state;
    return nnl_pool_layer_arg(l, batch * nnl_maxpool2d_arg_bytes(&s->g), batch, err);
}

nnl_status nnl_maxpool_layer_forward(nnl_layer *l, size_t batch, const float *x, float *y,
                                     int train, nnl_error *err)
{
    nnl_pool_layer_state *s = l->state;
    nnl_maxpool2d_forward(&s->g, batch, x, y, s->arg);
    return NNL_OK;
}

nnl_status nnl_maxpool_layer_backward(nnl_layer *l, size_t batch, const float *x,
                                      const float *y, float *dy, float *dx, nnl_error *err)
{
    nnl_pool_layer_state *s = l->state;
    if (dx)
        nnl_maxpool2d_backward(&s->g, batch, dy, s->arg, dx);
    return NNL_OK;
}

const nnl_layer_ops nnl_maxpool2d_kind = {
    .type = "MaxPooling2D",
    .example = "print(nn.MaxPooling2D(2)(nn.rand(1, 4, 4, 3)):shape()) -- 1 2 2 3",
    .help = "The largest value of each window of each channel.",
    NNL_POOL2D_LAYER_OPS,
    NNL_MAXPOOL_LAYER_OPS,
};
