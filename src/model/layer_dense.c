/* Dense: y = act(x W + b) over the last dimension of the input.
 *
 * The product and the bias run in one GEMM (bias in its epilogue) into the
 * pre-activation z, which is kept for the backward pass; the activation
 * then maps z to y. Backward: dz = dy * act'(z) (or dy itself when the
 * activation is fused with the loss), dW = x^T dz, db = column sums of dz,
 * dx = dz W^T. */
#include "model/layer.h"

#include <stdint.h>
#include <string.h>
#include "core/alloc.h"
#include "model/activation.h"
#include "model/init.h"
#include "simd/gemm.h"
#include "simd/kernels.h"

typedef struct dense_state {
    size_t units;
    nnl_dense_opts opts;
    float *z;          /* owned: pre-activation, reserved rows x units */
} dense_state;

void nnl_dense_opts_default(nnl_dense_opts *o)
{
    o->act = NNL_ACT_LINEAR;
    o->act_param = 0.0f;
    o->use_bias = 1;
    o->kernel_init = NNL_INIT_GLOROT_UNIFORM;
    o->bias_init = NNL_INIT_ZEROS;
    o->l1 = o->l2 = 0.0f;
}

/* Rows per sample: all dimensions but the last of the per-sample shape. */
static size_t lead_rows(const nnl_shape *s)
{
    size_t r = 1;
    for (int i = 0; i + 1 < s->ndim; i++)
        r *= s->d[i];
    return r;
}

static nnl_status dense_plan(const nnl_layer *l, const nnl_shape *in, nnl_shape *out,
                             nnl_weight_spec *w, int *nw, nnl_error *err)
{
    const dense_state *s = l->state;
    size_t fan_in = in->d[in->ndim - 1];
    *out = *in;
    out->d[out->ndim - 1] = s->units;
    w[0] = (nnl_weight_spec){"kernel", {2, {fan_in, s->units, 0, 0}}, 1, 1};
    *nw = 1;
    if (s->opts.use_bias)
        w[(*nw)++] = (nnl_weight_spec){"bias", {1, {s->units, 0, 0, 0}}, 1, 0};
    return NNL_OK;
}

static void dense_fill(nnl_layer *l, nnl_rng *rng)
{
    dense_state *s = l->state;
    size_t fan_in = l->in_shape.d[l->in_shape.ndim - 1];
    nnl_init_fill(s->opts.kernel_init, l->params[0].w, l->params[0].n, fan_in, s->units, rng);
    if (s->opts.use_bias)
        nnl_init_fill(s->opts.bias_init, l->params[1].w, s->units, fan_in, s->units, rng);
}

static nnl_status dense_reserve(nnl_layer *l, size_t batch, nnl_error *err)
{
    dense_state *s = l->state;
    if (l->act == NNL_ACT_LINEAR)
        return NNL_OK; /* z is y */
    size_t n = batch * lead_rows(&l->in_shape) * s->units;
    float *z = nnl_malloc(n * sizeof *z);
    if (!z)
        return nnl_fail(err, NNL_ERR_NOMEM, "%s: out of memory for a batch of %zu",
                        l->name, batch);
    nnl_free(s->z);
    s->z = z;
    return NNL_OK;
}

static nnl_status dense_forward(nnl_layer *l, size_t batch, const float *x, float *y,
                                int train, nnl_error *err)
{
    dense_state *s = l->state;
    size_t rows = batch * lead_rows(&l->in_shape);
    size_t in = l->params[0].shape.d[0], units = s->units;
    float *z = l->act == NNL_ACT_LINEAR ? y : s->z;
    nnl_gemm_epilogue ep = {s->opts.use_bias ? l->params[1].w : NULL, NNL_KACT_LINEAR, 0.0f};
    nnl_status st = nnl_gemm_ex(NNL_NOTRANS, NNL_NOTRANS, rows, units, in, 1.0f,
                                x, in, l->params[0].w, units, 0.0f, z, units, &ep, err);
    if (st != NNL_OK)
        return st;
    const nnl_kernels *k = nnl_kernels_active();
    if (l->act == NNL_ACT_SOFTMAX)
        k->softmax_rows(rows, units, z, units, y, units);
    else if (l->act != NNL_ACT_LINEAR)
        k->act_fwd(nnl_act_kernel(l->act), l->act_param, rows * units, z, y);
    return NNL_OK;
}

static nnl_status dense_backward(nnl_layer *l, size_t batch, const float *x,
                                 const float *y, float *dy, float *dx, nnl_error *err)
{
    dense_state *s = l->state;
    const nnl_kernels *k = nnl_kernels_active();
    size_t rows = batch * lead_rows(&l->in_shape);
    size_t in = l->params[0].shape.d[0], units = s->units;
    float *dz = dy;
    if (!l->act_fused) {
        if (l->act == NNL_ACT_SOFTMAX)
            k->softmax_bwd_rows(rows, units, y, dy, dz);
        else if (l->act != NNL_ACT_LINEAR)
            k->act_bwd(nnl_act_kernel(l->act), l->act_param, rows * units, s->z, y, dy, dz);
    }
    nnl_status st = nnl_gemm(NNL_TRANS, NNL_NOTRANS, in, units, rows, 1.0f, x, in,
                             dz, units, 0.0f, l->params[0].g, units, err);
    if (st != NNL_OK)
        return st;
    if (s->opts.use_bias)
        k->col_sum(rows, units, dz, units, l->params[1].g);
    if (dx)
        st = nnl_gemm(NNL_NOTRANS, NNL_TRANS, rows, in, units, 1.0f, dz, units,
                      l->params[0].w, units, 0.0f, dx, in, err);
    return st;
}

static void dense_destroy(nnl_layer *l)
{
    dense_state *s = l->state;
    if (s) {
        nnl_free(s->z);
        s->z = NULL;
    }
}

/* Option indices of the table below. */
enum { O_UNITS, O_ACT, O_ACT_PARAM, O_USE_BIAS, O_KINIT, O_BINIT, O_KREG, O_COUNT };

static const nnl_option dense_options[O_COUNT] = {
    [O_UNITS] = {.key = "units", .type = NNL_OPTION_INT, .required = 1, .min = 1,
                 .max = INT32_MAX, .help = "number of output units"},
    [O_ACT] = {.key = "activation", .type = NNL_OPTION_CHOICE, .def_name = "linear",
               .choice = &nnl_activation_choice, .help = "activation applied to x W + b"},
    /* The activation's own parameter (leaky_relu's slope): its default
     * unless a model file gives it. */
    [O_ACT_PARAM] = {.key = "activation_param", .type = NNL_OPTION_NUM, .min = -1e30,
                     .max = 1e30, .hidden = 1},
    [O_USE_BIAS] = {.key = "use_bias", .type = NNL_OPTION_BOOL, .def = 1,
                    .help = "add a bias vector"},
    [O_KINIT] = {.key = "kernel_initializer", .type = NNL_OPTION_CHOICE,
                 .def_name = "glorot_uniform", .choice = &nnl_init_choice,
                 .help = "initializer of the kernel"},
    [O_BINIT] = {.key = "bias_initializer", .type = NNL_OPTION_CHOICE, .def_name = "zeros",
                 .choice = &nnl_init_choice, .help = "initializer of the bias"},
    [O_KREG] = {.key = "kernel_regularizer", .type = NNL_OPTION_REGULARIZER,
                .help = "penalty on the kernel: {l1 = a, l2 = b}, \"l1\" or \"l2\" (0.01)"},
};

static nnl_status dense_init(nnl_layer *l, nnl_error *err)
{
    dense_state *s = l->state;
    nnl_value *v = l->config;
    s->units = (size_t)v[O_UNITS].num;
    s->opts.act = (int)v[O_ACT].num;
    if (!v[O_ACT_PARAM].given)
        v[O_ACT_PARAM].num = nnl_activation_param(s->opts.act);
    s->opts.act_param = (float)v[O_ACT_PARAM].num;
    s->opts.use_bias = v[O_USE_BIAS].num != 0.0;
    s->opts.kernel_init = (int)v[O_KINIT].num;
    s->opts.bias_init = (int)v[O_BINIT].num;
    s->opts.l1 = (float)v[O_KREG].l1;
    s->opts.l2 = (float)v[O_KREG].l2;
    l->act = s->opts.act;
    l->act_param = s->opts.act_param;
    l->l1 = s->opts.l1;
    l->l2 = s->opts.l2;
    return NNL_OK;
}

static const float *dense_preact(const nnl_layer *l, const float *x)
{
    const dense_state *s = l->state;
    return l->act == NNL_ACT_LINEAR ? NULL : s->z;
}

const nnl_layer_ops nnl_dense_kind = {
    .type = "Dense",
    .example = "local layer = nn.Dense(3, {activation = \"relu\"})\n"
                "print(layer(nn.rand(2, 4))) -- 2 samples of 4 features -> 2 x 3",
    .help = "A densely connected layer: y = activation(x W + b) over the last dimension.",
    .options = dense_options,
    .noptions = O_COUNT,
    .npositional = 1,
    .state_size = sizeof(dense_state),
    .init = dense_init,
    .plan = dense_plan,
    .fill = dense_fill,
    .reserve = dense_reserve,
    .forward = dense_forward,
    .backward = dense_backward,
    .destroy = dense_destroy,
    .preact = dense_preact,
    .draw = NNL_DRAW_NEURONS,
};

nnl_layer *nnl_dense_new(size_t units, const nnl_dense_opts *o, nnl_error *err)
{
    nnl_dense_opts def;
    if (!o) {
        nnl_dense_opts_default(&def);
        o = &def;
    }
    nnl_value v[O_COUNT];
    nnl_values_default(dense_options, O_COUNT, v);
    v[O_UNITS].num = (double)units;
    v[O_ACT].num = o->act;
    v[O_ACT_PARAM].num = nnl_value_from_float(o->act_param);
    v[O_ACT_PARAM].given = 1;
    v[O_USE_BIAS].num = o->use_bias != 0;
    v[O_KINIT].num = o->kernel_init;
    v[O_BINIT].num = o->bias_init;
    v[O_KREG].l1 = nnl_value_from_float(o->l1);
    v[O_KREG].l2 = nnl_value_from_float(o->l2);
    return nnl_layer_create(&nnl_dense_kind, v, err);
}
