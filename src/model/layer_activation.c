/* Activation: y = act(x) element-wise (softmax row-wise over the last
 * dimension), using the kernel table of the active instruction set. */
#include "model/layer.h"

#include "model/activation.h"
#include "simd/kernels.h"

static nnl_status act_plan(const nnl_layer *l, const nnl_shape *in, nnl_shape *out,
                           nnl_weight_spec *w, int *nw, nnl_error *err)
{
    *out = *in;
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
        k->act_fwd(nnl_act_kernel(l->act), l->act_param, n, x, y);
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
        k->act_bwd(nnl_act_kernel(l->act), l->act_param, n, x, y, dy, dx);
    }
    return NNL_OK;
}

enum { O_ACT, O_PARAM, O_COUNT };

static const nnl_option act_options[O_COUNT] = {
    [O_ACT] = {.key = "activation", .type = NNL_OPTION_CHOICE, .required = 1,
               .choice = &nnl_activation_choice, .help = "the activation function"},
    /* The function's parameter: Keras names it negative_slope (leaky_relu)
     * and alpha (elu); its default depends on the function. */
    [O_PARAM] = {.key = "activation_param", .type = NNL_OPTION_NUM, .min = -1e30,
                 .max = 1e30, .alias = "alpha|negative_slope",
                 .help = "the function's parameter (leaky_relu: negative_slope, default 0.2; "
                         "elu: alpha, default 1)"},
};

static nnl_status act_init(nnl_layer *l, nnl_error *err)
{
    nnl_value *v = l->config;
    l->act = (int)v[O_ACT].num;
    if (!v[O_PARAM].given)
        v[O_PARAM].num = nnl_activation_param(l->act);
    l->act_param = (float)v[O_PARAM].num;
    return NNL_OK;
}

static const float *act_preact(const nnl_layer *l, const float *x)
{
    return x;
}

const nnl_layer_ops nnl_activation_kind = {
    .type = "Activation",
    .example = "print(nn.Activation(\"tanh\")(nn.tensor{{-1, 0, 1}}))",
    .help = "An activation function as a layer: y = activation(x).",
    .options = act_options,
    .noptions = O_COUNT,
    .npositional = 1,
    .init = act_init,
    .plan = act_plan,
    .forward = act_forward,
    .backward = act_backward,
    .preact = act_preact,
    .draw = NNL_DRAW_NONE,
};

nnl_layer *nnl_activation_new(int act, float param, nnl_error *err)
{
    nnl_value v[O_COUNT];
    nnl_values_default(act_options, O_COUNT, v);
    v[O_ACT].num = act;
    v[O_PARAM].num = nnl_value_from_float(param);
    v[O_PARAM].given = 1;
    return nnl_layer_create(&nnl_activation_kind, v, err);
}
