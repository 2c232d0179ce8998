/* GlobalMaxPooling2D: the largest value of each channel over all pixels of
 * an image, as Keras: {h, w, c} per sample -> {c} ({1, 1, c} with
 * keepdims). No weights. Options and plan are the global kinds'
 * (layer_global_pool2d.h). Runs on model/pool.h's global pooling, which
 * keeps the winning pixel of each channel (the first maximum) for the
 * backward pass in the pooling state's buffer (layer_pool2d.h), sized
 * once per batch size. */
#include "model/layer.h"

#include <stdint.h>
#include "model/layer_global_pool2d.h"
#include "model/layer_pool2d.h"
#include "model/pool.h"

static nnl_status global_maxpool2d_reserve(nnl_layer *l, size_t batch, nnl_error *err)
{
    return nnl_pool_layer_arg(l, batch * l->in_shape.d[2] * sizeof(int32_t), batch, err);
}

static nnl_status global_maxpool2d_forward(nnl_layer *l, size_t batch, const float *x,
                                           float *y, int train, nnl_error *err)
{
    const nnl_shape *in = &l->in_shape;
    nnl_pool_layer_state *s = l->state;
    nnl_global_maxpool_forward(batch, in->d[0] * in->d[1], in->d[2], x, y, s->arg);
    return NNL_OK;
}

static nnl_status global_maxpool2d_backward(nnl_layer *l, size_t batch, const float *x,
                                            const float *y, float *dy, float *dx,
                                            nnl_error *err)
{
    const nnl_shape *in = &l->in_shape;
    nnl_pool_layer_state *s = l->state;
    if (dx)
        nnl_global_maxpool_backward(batch, in->d[0] * in->d[1], in->d[2], dy, s->arg, dx);
    return NNL_OK;
}

const nnl_layer_ops nnl_global_maxpool2d_kind = {
    .type = "GlobalMaxPooling2D",
    .example = "print(nn.GlobalMaxPooling2D()(nn.rand(2, 5, 5, 3)):shape()) -- 2 3",
    .help = "The largest value of each channel over all pixels: {h, w, c} -> {c}.",
    .options = nnl_global_pool2d_options,
    .noptions = NNL_GLOBAL_POOL_O_COUNT,
    .state_size = sizeof(nnl_pool_layer_state),
    .plan = nnl_global_pool2d_plan,
    .reserve = global_maxpool2d_reserve,
    .forward = global_maxpool2d_forward,
    .backward = global_maxpool2d_backward,
    .destroy = nnl_pool_layer_destroy,
    .draw = NNL_DRAW_NONE,
};
