/* Conv1D: y = activation(conv(x, W) + b) along the steps of a sequence,
 * channels last, as Keras: input {steps, channels} per sample, kernel
 * [k, cin, filters], strides, padding "valid", "same" or "causal" (zeros
 * on the left only, so an output never sees later steps), dilation_rate.
 * It is Conv2D's core (model/conv.h) with h = 1 (nnl_conv1d_spec: the same
 * memory); the pre-activation z is kept for the backward pass, and the
 * convolution's workspace is sized once per batch size in reserve, so a
 * training step allocates nothing. */
#include "model/layer.h"

#include <stdint.h>
#include <string.h>
#include "core/alloc.h"
#include "model/activation.h"
#include "model/conv.h"
#include "model/init.h"
#include "simd/kernels.h"

typedef struct conv1d_state {
    nnl_conv2d_geom g;    /* set by plan's checks, kept by fill */
    int use_bias, kinit, binit;
    float *z;             /* owned: pre-activation, reserved batch x out_size */
    void *ws;             /* owned: the convolution's workspace */
    size_t ws_size;
} conv1d_state;

enum { O_FILTERS, O_KSIZE, O_STRIDES, O_PADDING, O_DILATION, O_ACT, O_ACT_PARAM, O_USE_BIAS,
       O_KINIT, O_BINIT, O_KREG, O_COUNT };

static const nnl_option conv1d_options[O_COUNT] = {
    [O_FILTERS] = {.key = "filters", .type = NNL_OPTION_INT, .required = 1, .min = 1,
                   .max = 65536, .help = "number of filters (output channels)"},
    [O_KSIZE] = {.key = "kernel_size", .type = NNL_OPTION_SIZES, .required = 1, .count = 1,
                 .min = 1, .max = 4096, .help = "length of the kernel: k or {k}"},
    [O_STRIDES] = {.key = "strides", .type = NNL_OPTION_SIZES, .def = 1, .count = 1, .min = 1,
                   .max = 4096, .help = "steps between windows: s or {s}"},
    [O_PADDING] = {.key = "padding", .type = NNL_OPTION_CHOICE, .def_name = "valid",
                   .choice = &nnl_padding_causal_choice,
                   .help = "\"valid\" (no padding), \"same\" (output length = input / "
                           "stride) or \"causal\" (zeros before the first step only)"},
    [O_DILATION] = {.key = "dilation_rate", .type = NNL_OPTION_SIZES, .def = 1, .count = 1,
                    .min = 1, .max = 4096, .help = "spacing of the kernel's taps: d or {d}"},
    [O_ACT] = {.key = "activation", .type = NNL_OPTION_CHOICE, .def_name = "linear",
               .choice = &nnl_activation_choice, .help = "activation applied to conv + bias"},
    [O_ACT_PARAM] = {.key = "activation_param", .type = NNL_OPTION_NUM, .min = -1e30,
                     .max = 1e30, .hidden = 1},
    [O_USE_BIAS] = {.key = "use_bias", .type = NNL_OPTION_BOOL, .def = 1,
                    .help = "add a bias per filter"},
    [O_KINIT] = {.key = "kernel_initializer", .type = NNL_OPTION_CHOICE,
                 .def_name = "glorot_uniform", .choice = &nnl_init_choice,
                 .help = "initializer of the kernel"},
    [O_BINIT] = {.key = "bias_initializer", .type = NNL_OPTION_CHOICE, .def_name = "zeros",
                 .choice = &nnl_init_choice, .help = "initializer of the bias"},
    [O_KREG] = {.key = "kernel_regularizer", .type = NNL_OPTION_REGULARIZER,
                .help = "penalty on the kernel: {l1 = a, l2 = b}, \"l1\" or \"l2\" (0.01)"},
};

static nnl_status conv1d_init(nnl_layer *l, nnl_error *err)
{
    conv1d_state *s = l->state;
    nnl_value *v = l->config;
    l->act = (int)v[O_ACT].num;
    if (!v[O_ACT_PARAM].given)
        v[O_ACT_PARAM].num = nnl_activation_param(l->act);
    l->act_param = (float)v[O_ACT_PARAM].num;
    s->use_bias = v[O_USE_BIAS].num != 0.0;
    s->kinit = (int)v[O_KINIT].num;
    s->binit = (int)v[O_BINIT].num;
    l->l1 = (float)v[O_KREG].l1;
    l->l2 = (float)v[O_KREG].l2;
    return NNL_OK;
}

/* The geometry of l for per-sample input in (channels last, 2-D). */
static nnl_status geometry(const nnl_layer *l, const nnl_shape *in, nnl_conv2d_geom *g,
                           nnl_error *err)
{
    char b[64];
    if (in->ndim != 2)
        return nnl_fail(err, NNL_ERR_SHAPE, "%s: Conv1D takes sequences {steps, channels} "
                        "per sample, got %s", l->name, nnl_shape_keras(in, b, sizeof b));
    const nnl_value *v = l->config;
    nnl_conv2d_spec sp = nnl_conv1d_spec(in->d[0], in->d[1], (size_t)v[O_KSIZE].ints[0],
                                         (size_t)v[O_FILTERS].num, (size_t)v[O_STRIDES].ints[0],
                                         (size_t)v[O_DILATION].ints[0],
                                         (nnl_padding)v[O_PADDING].num);
    /* The one error a user meets often, said in steps rather than in the
     * 2-D core's 1 x k terms. */
    size_t span = (sp.kw - 1) * sp.dw + 1;
    if (sp.padding == NNL_PAD_VALID && span > sp.w)
        return nnl_fail(err, NNL_ERR_SHAPE, "%s: kernel_size %zu with dilation_rate %zu "
                        "spans %zu steps, more than the %zu of the input (\"valid\" padding "
                        "leaves no output)", l->name, sp.kw, sp.dw, span, sp.w);
    nnl_error e;
    if (nnl_conv2d_geom_init(g, &sp, &e) != NNL_OK)
        return nnl_fail(err, e.code, "%s: %s", l->name, e.msg);
    return NNL_OK;
}

static nnl_status conv1d_plan(const nnl_layer *l, const nnl_shape *in, nnl_shape *out,
                              nnl_weight_spec *w, int *nw, nnl_error *err)
{
    nnl_conv2d_geom g;
    nnl_status st = geometry(l, in, &g, err);
    if (st != NNL_OK)
        return st;
    *out = (nnl_shape){2, {g.ow, g.s.cout, 0, 0}};
    w[0] = (nnl_weight_spec){"kernel", {3, {g.s.kw, g.s.cin, g.s.cout, 0}}, 1, 1};
    *nw = 1;
    if (((const conv1d_state *)l->state)->use_bias)
        w[(*nw)++] = (nnl_weight_spec){"bias", {1, {g.s.cout, 0, 0, 0}}, 1, 0};
    return NNL_OK;
}

static void conv1d_fill(nnl_layer *l, nnl_rng *rng)
{
    conv1d_state *s = l->state;
    nnl_error e;
    geometry(l, &l->in_shape, &s->g, &e); /* the plan checked it */
    size_t field = s->g.s.kw; /* Keras: fans count the receptive field */
    nnl_init_fill(s->kinit, l->params[0].w, l->params[0].n, field * s->g.s.cin,
                  field * s->g.s.cout, rng);
    if (s->use_bias)
        nnl_init_fill(s->binit, l->params[1].w, s->g.s.cout, field * s->g.s.cin,
                      field * s->g.s.cout, rng);
}

static nnl_status conv1d_reserve(nnl_layer *l, size_t batch, nnl_error *err)
{
    conv1d_state *s = l->state;
    size_t wsz = nnl_conv2d_workspace_size(&s->g, batch);
    void *ws = NULL;
    float *z = NULL;
    if (wsz && !(ws = nnl_malloc(wsz)))
        goto nomem;
    if (l->act != NNL_ACT_LINEAR && !(z = nnl_malloc(batch * s->g.out_size * sizeof *z)))
        goto nomem;
    nnl_free(s->ws);
    nnl_free(s->z);
    s->ws = ws;
    s->ws_size = wsz;
    s->z = z;
    return NNL_OK;
nomem:
    nnl_free(ws);
    return nnl_fail(err, NNL_ERR_NOMEM, "%s: out of memory for a batch of %zu", l->name, batch);
}

static nnl_status conv1d_forward(nnl_layer *l, size_t batch, const float *x, float *y,
                                 int train, nnl_error *err)
{
    conv1d_state *s = l->state;
    float *z = l->act == NNL_ACT_LINEAR ? y : s->z;
    nnl_status st = nnl_conv2d_forward(&s->g, batch, x, l->params[0].w,
                                       s->use_bias ? l->params[1].w : NULL, z, s->ws, err);
    if (st != NNL_OK)
        return st;
    nnl_layer_act_forward(l, batch * s->g.ow, s->g.s.cout, z, y);
    return NNL_OK;
}

static nnl_status conv1d_backward(nnl_layer *l, size_t batch, const float *x, const float *y,
                                  float *dy, float *dx, nnl_error *err)
{
    conv1d_state *s = l->state;
    const float *z = l->act == NNL_ACT_LINEAR ? y : s->z;
    nnl_layer_act_backward(l, batch * s->g.ow, s->g.s.cout, z, y, dy, dy);
    return nnl_conv2d_backward(&s->g, batch, x, l->params[0].w, dy, l->params[0].g,
                               s->use_bias ? l->params[1].g : NULL, dx, s->ws, err);
}

static void conv1d_destroy(nnl_layer *l)
{
    conv1d_state *s = l->state;
    if (s) {
        nnl_free(s->z);
        nnl_free(s->ws);
        s->z = NULL;
        s->ws = NULL;
        s->ws_size = 0;
    }
}

static const float *conv1d_preact(const nnl_layer *l, const float *x)
{
    const conv1d_state *s = l->state;
    return l->act == NNL_ACT_LINEAR ? NULL : s->z;
}

const nnl_layer_ops nnl_conv1d_kind = {
    .type = "Conv1D",
    .help = "A 1-D convolution along sequences {steps, channels} (channels last): "
            "y = activation(conv(x, kernel) + bias).",
    .options = conv1d_options,
    .noptions = O_COUNT,
    .npositional = 2,
    .state_size = sizeof(conv1d_state),
    .init = conv1d_init,
    .plan = conv1d_plan,
    .fill = conv1d_fill,
    .reserve = conv1d_reserve,
    .forward = conv1d_forward,
    .backward = conv1d_backward,
    .destroy = conv1d_destroy,
    .preact = conv1d_preact,
    .draw = NNL_DRAW_MAPS,
};
