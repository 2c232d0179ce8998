/* AveragePooling2D: The mean of each window of each channel (over its real pixels).
 * Channels last ({h, w, c} per sample), pool_size and strides as a
 * number or {h, w} (strides default to the pool size, as Keras), padding
 * "valid" or "same" (padded pixels never count). The windows run on
 * model/pool.h's vectorised kernels; options, plan and fill are the
 * window kinds' (layer_pool2d.h). */
#include "model/layer.h"

#include "model/layer_pool2d.h"
#include "model/pool.h"

static nnl_status avgpool2d_forward(nnl_layer *l, size_t batch, const float *x, float *y,
                                 int train, nnl_error *err)
{
    nnl_avgpool2d_forward(&((nnl_pool_layer_state *)l->state)->g, batch, x, y);
    return NNL_OK;
}

static nnl_status avgpool2d_backward(nnl_layer *l, size_t batch, const float *x, const float *y,
                                  float *dy, float *dx, nnl_error *err)
{
    if (dx)
        nnl_avgpool2d_backward(&((nnl_pool_layer_state *)l->state)->g, batch, dy, dx);
    return NNL_OK;
}

const nnl_layer_ops nnl_avgpool2d_kind = {
    .type = "AveragePooling2D",
    .example = "print(nn.AveragePooling2D(2)(nn.ones(1, 4, 4, 1)):shape()) -- 1 2 2 1",
    .help = "The mean of each window of each channel (over its real pixels).",
    NNL_POOL2D_LAYER_OPS,
    .forward = avgpool2d_forward,
    .backward = avgpool2d_backward,
};
