/* GlobalAveragePooling2D: the mean of each channel over all pixels of an
 * image, as Keras: {h, w, c} per sample -> {c} ({1, 1, c} with keepdims).
 * No weights. Options and plan are the global kinds'
 * (layer_global_pool2d.h); runs on model/pool.h's global pooling (the
 * window kernels over the h*w pixels). */
#include "model/layer.h"

#include "model/layer_global_pool2d.h"
#include "model/pool.h"

static nnl_status global_avgpool2d_forward(nnl_layer *l, size_t batch, const float *x,
                                           float *y, int train, nnl_error *err)
{
    const nnl_shape *in = &l->in_shape;
    nnl_global_avgpool_forward(batch, in->d[0] * in->d[1], in->d[2], x, y);
    return NNL_OK;
}

static nnl_status global_avgpool2d_backward(nnl_layer *l, size_t batch, const float *x,
                                            const float *y, float *dy, float *dx,
                                            nnl_error *err)
{
    const nnl_shape *in = &l->in_shape;
    if (dx)
        nnl_global_avgpool_backward(batch, in->d[0] * in->d[1], in->d[2], dy, dx);
    return NNL_OK;
}

const nnl_layer_ops nnl_global_avgpool2d_kind = {
    .type = "GlobalAveragePooling2D",
    .example = "print(nn.GlobalAveragePooling2D()(nn.rand(2, 5, 5, 3)):shape()) -- 2 3",
    .help = "The mean of each channel over all pixels: {h, w, c} -> {c}.",
    .options = nnl_global_pool2d_options,
    .noptions = NNL_GLOBAL_POOL_O_COUNT,
    .plan = nnl_global_pool2d_plan,
    .forward = global_avgpool2d_forward,
    .backward = global_avgpool2d_backward,
    .draw = NNL_DRAW_NONE,
};
