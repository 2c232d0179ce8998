/* Flatten: reshapes each sample to one dimension; the data do not move
 * (they are contiguous), so forward and backward are copies. */
#include "model/layer.h"

#include <string.h>

static nnl_status flatten_plan(const nnl_layer *l, const nnl_shape *in, nnl_shape *out,
                               nnl_weight_spec *w, int *nw, nnl_error *err)
{
    out->ndim = 1;
    out->d[0] = nnl_shape_numel(in);
    return NNL_OK;
}

static nnl_status flatten_forward(nnl_layer *l, size_t batch, const float *x, float *y,
                                  int train, nnl_error *err)
{
    if (x != y)
        memcpy(y, x, batch * l->out_shape.d[0] * sizeof *y);
    return NNL_OK;
}

static nnl_status flatten_backward(nnl_layer *l, size_t batch, const float *x,
                                   const float *y, float *dy, float *dx, nnl_error *err)
{
    if (dx && dx != dy)
        memcpy(dx, dy, batch * l->out_shape.d[0] * sizeof *dx);
    return NNL_OK;
}

const nnl_layer_ops nnl_flatten_kind = {
    .type = "Flatten",
    .example = "print(nn.Flatten()(nn.rand(2, 4, 4, 3)):shape()) -- 2 48",
    .help = "Flattens each sample to one dimension (the data do not move).",
    .plan = flatten_plan,
    .forward = flatten_forward,
    .backward = flatten_backward,
    .draw = NNL_DRAW_NONE,
};

nnl_layer *nnl_flatten_new(nnl_error *err)
{
    return nnl_layer_create(&nnl_flatten_kind, NULL, err);
}
