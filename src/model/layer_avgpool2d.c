/* AveragePooling2D: The mean of each window of each channel (over its real pixels).
 * Channels last ({h, w, c} per sample), pool_size and strides as a
 * number or {h, w} (strides default to the pool size, as Keras), padding
 * "valid" or "same" (padded pixels never count). The windows run on
 * model/pool.h's vectorised kernels. */
#include "model/layer.h"

#include <stdint.h>
#include "core/alloc.h"
#include "model/layer_pool2d.h"
#include "model/pool.h"

typedef struct avgpool2d_state {
    nnl_pool2d_geom g;
} avgpool2d_state;

static nnl_status avgpool2d_plan(const nnl_layer *l, const nnl_shape *in, nnl_shape *out,
                              nnl_weight_spec *w, int *nw, nnl_error *err)
{
    nnl_pool2d_geom g;
    nnl_status st = nnl_pool2d_layer_geometry(l, in, &g, err);
    if (st == NNL_OK)
        *out = (nnl_shape){3, {g.oh, g.ow, g.s.c, 0}};
    return st;
}

static void avgpool2d_fill(nnl_layer *l, nnl_rng *rng)
{
    nnl_error e;
    /* the plan checked it */
    nnl_pool2d_layer_geometry(l, &l->in_shape, &((avgpool2d_state *)l->state)->g, &e);
}

static nnl_status avgpool2d_forward(nnl_layer *l, size_t batch, const float *x, float *y,
                                 int train, nnl_error *err)
{
    nnl_avgpool2d_forward(&((avgpool2d_state *)l->state)->g, batch, x, y);
    return NNL_OK;
}

static nnl_status avgpool2d_backward(nnl_layer *l, size_t batch, const float *x, const float *y,
                                  float *dy, float *dx, nnl_error *err)
{
    if (dx)
        nnl_avgpool2d_backward(&((avgpool2d_state *)l->state)->g, batch, dy, dx);
    return NNL_OK;
}

const nnl_layer_ops nnl_avgpool2d_kind = {
    .type = "AveragePooling2D",
    .help = "The mean of each window of each channel (over its real pixels).",
    .options = nnl_pool2d_options,
    .noptions = NNL_POOL2D_O_COUNT,
    .npositional = 1,
    .state_size = sizeof(avgpool2d_state),
    .plan = avgpool2d_plan,
    .fill = avgpool2d_fill,
    .forward = avgpool2d_forward,
    .backward = avgpool2d_backward,
    .draw = NNL_DRAW_MAPS,
};
