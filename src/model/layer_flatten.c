/* Flatten: reshapes each sample to one dimension; the data do not move
 * (they are contiguous), so forward and backward are copies. */
#include "model/layer.h"

#include <string.h>

static nnl_status flatten_build(nnl_layer *l, nnl_rng *rng, nnl_error *err)
{
    l->out_shape.ndim = 1;
    l->out_shape.d[0] = nnl_shape_numel(&l->in_shape);
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

static const nnl_layer_ops flatten_ops = {
    NNL_LAYER_FLATTEN, "Flatten", flatten_build, NULL, flatten_forward,
    flatten_backward, NULL,
};

nnl_layer *nnl_flatten_new(nnl_error *err)
{
    return nnl_layer_alloc(&flatten_ops, 0, err);
}
