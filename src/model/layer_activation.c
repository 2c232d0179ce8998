/* Activation: y = act(x) element-wise (softmax row-wise over the last
 * dimension), using the kernel table of the active instruction set. */
#include "model/layer.h"

#include "simd/kernels.h"

/* Keras 3 defaults: leaky_relu negative_slope 0.2, elu alpha 1.0. */
float nnl_act_default_param(int act)
{
    if (act == NNL_ACT_LEAKY_RELU)
        return 0.2f;
    if (act == NNL_ACT_ELU)
        return 1.0f;
    return 0.0f;
}

static nnl_status act_build(nnl_layer *l, nnl_rng *rng, nnl_error *err)
{
    l->out_shape = l->in_shape;
    return NNL_OK;
}

static nnl_status act_forward(nnl_layer *l, size_t batch, const float *x, float *y,
                              int train, nnl_error *err)
{
    const nnl_kernels *k = nnl_kernels_active();
    size_t n = batch * nnl_shape_numel(&l->in_shape);
    if (l->act == NNL_ACT_SOFTMAX) {
        size_t cols = l->in_shape.d[l->in_shape.ndim - 1];
        k->softmax_rows(n / cols, cols, x, cols, y, cols);
    } else {
        k->act_fwd((nnl_act)l->act, l->act_param, n, x, y);
    }
    return NNL_OK;
}

static nnl_status act_backward(nnl_layer *l, size_t batch, const float *x,
                               const float *y, float *dy, float *dx, nnl_error *err)
{
    if (!dx)
        return NNL_OK;
    const nnl_kernels *k = nnl_kernels_active();
    size_t n = batch * nnl_shape_numel(&l->in_shape);
    if (l->act_fused) {
        for (size_t i = 0; i < n; i++)
            dx[i] = dy[i];
    } else if (l->act == NNL_ACT_SOFTMAX) {
        size_t cols = l->in_shape.d[l->in_shape.ndim - 1];
        k->softmax_bwd_rows(n / cols, cols, y, dy, dx);
    } else {
        k->act_bwd((nnl_act)l->act, l->act_param, n, x, y, dy, dx);
    }
    return NNL_OK;
}

static const nnl_layer_ops activation_ops = {
    NNL_LAYER_ACTIVATION, "Activation", act_build, NULL, act_forward,
    act_backward, NULL,
};

nnl_layer *nnl_activation_new(int act, float param, nnl_error *err)
{
    if (act < 0 || act >= NNL_ACT_COUNT) {
        nnl_fail(err, NNL_ERR_ARG, "nn.Activation: unknown activation %d", act);
        return NULL;
    }
    nnl_layer *l = nnl_layer_alloc(&activation_ops, 0, err);
    if (!l)
        return NULL;
    l->act = act;
    l->act_param = param;
    return l;
}
