/* Conv2D: y = activation(conv(x, W) + b), channels last, as Keras: input
 * {h, w, c} per sample, kernel [kh, kw, cin, filters], strides, padding
 * "valid" or "same", dilation_rate. The products run on the SIMD core
 * through model/conv.h (im2col or an implicit GEMM); the pre-activation z
 * is kept for the backward pass, and the workspace the convolution needs
 * is sized once per batch size in reserve, so a training step allocates
 * nothing. Conv1D (layer_conv1d.c) is the same with h = 1. */
#include "model/layer.h"

#include <stdint.h>
#include <string.h>
#include "core/alloc.h"
#include "model/activation.h"
#include "model/conv.h"
#include "model/init.h"
#include "simd/kernels.h"

typedef struct conv2d_state {
    nnl_conv2d_geom g;    /* set by plan's checks, kept by fill */
    int use_bias, kinit, binit;
    float *z;             /* owned: pre-activation, reserved batch x out_size */
    void *ws;             /* owned: the convolution's workspace */
    size_t ws_size;
} conv2d_state;

enum { O_FILTERS, O_KSIZE, O_STRIDES, O_PADDING, O_DILATION, O_ACT, O_ACT_PARAM, O_USE_BIAS,
       O_KINIT, O_BINIT, O_KREG, O_COUNT };

static const nnl_option conv2d_options[O_COUNT] = {
    [O_FILTERS] = {.key = "filters", .type = NNL_OPTION_INT, .required = 1, .min = 1,
                   .max = 65536, .help = "number of filters (output channels)"},
    [O_KSIZE] = {.key = "kernel_size", .type = NNL_OPTION_SIZES, .required = 1, .count = 2,
                 .min = 1, .max = 4096, .help = "height and width of the kernel: k or {kh, kw}"},
    [O_STRIDES] = {.key = "strides", .type = NNL_OPTION_SIZES, .def = 1, .count = 2, .min = 1,
                   .max = 4096, .help = "steps between windows: s or {sh, sw}"},
    [O_PADDING] = {.key = "padding", .type = NNL_OPTION_CHOICE, .def_name = "valid",
                   .choice = &nnl_padding_choice,
                   .help = "\"valid\" (no padding) or \"same\" (output size = input / stride)"},
    [O_DILATION] = {.key = "dilation_rate", .type = NNL_OPTION_SIZES, .def = 1, .count = 2,
                    .min = 1, .max = 4096, .help = "spacing of the kernel's taps: d or {dh, dw}"},
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

static nnl_status conv2d_init(nnl_layer *l, nnl_error *err)
{
    conv2d_state *s = l->state;
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

/* The geometry of l for per-sample input in (channels last, 3-D). */
static nnl_status geometry(const nnl_layer *l, const nnl_shape *in, nnl_conv2d_geom *g,
                           nnl_error *err)
{
    char b[64];
    if (in->ndim != 3)
        return nnl_fail(err, NNL_ERR_SHAPE, "%s: Conv2D takes images {height, width, "
                        "channels} per sample, got %s", l->name,
                        nnl_shape_keras(in, b, sizeof b));
    const nnl_value *v = l->config;
    nnl_conv2d_spec sp = {in->d[0], in->d[1], in->d[2],
                          (size_t)v[O_KSIZE].ints[0], (size_t)v[O_KSIZE].ints[1],
                          (size_t)v[O_FILTERS].num,
                          (size_t)v[O_STRIDES].ints[0], (size_t)v[O_STRIDES].ints[1],
                          (size_t)v[O_DILATION].ints[0], (size_t)v[O_DILATION].ints[1],
                          (nnl_padding)v[O_PADDING].num};
    nnl_error e;
    if (nnl_conv2d_geom_init(g, &sp, &e) != NNL_OK)
        return nnl_fail(err, e.code, "%s: %s", l->name, e.msg);
    return NNL_OK;
}

static nnl_status conv2d_plan(const nnl_layer *l, const nnl_shape *in, nnl_shape *out,
                              nnl_weight_spec *w, int *nw, nnl_error *err)
{
    nnl_conv2d_geom g;
    nnl_status st = geometry(l, in, &g, err);
    if (st != NNL_OK)
        return st;
    *out = (nnl_shape){3, {g.oh, g.ow, g.s.cout, 0}};
    w[0] = (nnl_weight_spec){"kernel", {4, {g.s.kh, g.s.kw, g.s.cin, g.s.cout}}, 1, 1};
    *nw = 1;
    if (((const conv2d_state *)l->state)->use_bias)
        w[(*nw)++] = (nnl_weight_spec){"bias", {1, {g.s.cout, 0, 0, 0}}, 1, 0};
    return NNL_OK;
}

static void conv2d_fill(nnl_layer *l, nnl_rng *rng)
{
    conv2d_state *s = l->state;
    nnl_error e;
    geometry(l, &l->in_shape, &s->g, &e); /* the plan checked it */
    size_t field = s->g.s.kh * s->g.s.kw; /* Keras: fans count the receptive field */
    nnl_init_fill(s->kinit, l->params[0].w, l->params[0].n, field * s->g.s.cin,
                  field * s->g.s.cout, rng);
    if (s->use_bias)
        nnl_init_fill(s->binit, l->params[1].w, s->g.s.cout, field * s->g.s.cin,
                      field * s->g.s.cout, rng);
}

/* Whether the pre-activation z is kept apart from y: not for a linear
 * activation (z is y) nor for relu, whose derivative (z > 0) is y > 0, the
 * same for every z (NaN and -0 included): relu then runs in place on y
 * and the layer writes and keeps one output array instead of two (11 MB
 * of the Fashion CNN's first layer at batch 128). */
static int keeps_z(const nnl_layer *l)
{
    return l->act != NNL_ACT_LINEAR && l->act != NNL_ACT_RELU;
}

static nnl_status conv2d_reserve(nnl_layer *l, size_t batch, nnl_error *err)
{
    conv2d_state *s = l->state;
    size_t wsz = nnl_conv2d_workspace_size(&s->g, batch);
    void *ws = NULL;
    float *z = NULL;
    if (wsz && !(ws = nnl_malloc(wsz)))
        goto nomem;
    if (keeps_z(l) && !(z = nnl_malloc(batch * s->g.out_size * sizeof *z)))
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

static nnl_status conv2d_forward(nnl_layer *l, size_t batch, const float *x, float *y,
                                 int train, nnl_error *err)
{
    conv2d_state *s = l->state;
    const float *b = s->use_bias ? l->params[1].w : NULL;
    if (l->act != NNL_ACT_SOFTMAX) /* element-wise: fused into the passes */
        return nnl_conv2d_forward_act(&s->g, batch, x, l->params[0].w, b,
                                      nnl_act_kernel(l->act), l->act_param,
                                      keeps_z(l) ? s->z : y, y, s->ws, err);
    nnl_status st = nnl_conv2d_forward(&s->g, batch, x, l->params[0].w, b, s->z, s->ws, err);
    if (st != NNL_OK)
        return st;
    nnl_layer_act_forward(l, batch * s->g.oh * s->g.ow, s->g.s.cout, s->z, y);
    return NNL_OK;
}

static nnl_status conv2d_backward(nnl_layer *l, size_t batch, const float *x, const float *y,
                                  float *dy, float *dx, nnl_error *err)
{
    conv2d_state *s = l->state;
    float *db = s->use_bias ? l->params[1].g : NULL;
    if (!l->act_fused && l->act != NNL_ACT_SOFTMAX) /* element-wise: fused */
        return nnl_conv2d_backward_act(&s->g, batch, x, l->params[0].w,
                                       nnl_act_kernel(l->act), l->act_param,
                                       keeps_z(l) ? s->z : y, y, dy, l->params[0].g, db, dx,
                                       s->ws, err);
    const float *z = l->act == NNL_ACT_LINEAR ? y : s->z;
    nnl_layer_act_backward(l, batch * s->g.oh * s->g.ow, s->g.s.cout, z, y, dy, dy);
    return nnl_conv2d_backward(&s->g, batch, x, l->params[0].w, dy, l->params[0].g, db, dx,
                               s->ws, err);
}

static void conv2d_destroy(nnl_layer *l)
{
    conv2d_state *s = l->state;
    if (s) {
        nnl_free(s->z);
        nnl_free(s->ws);
        s->z = NULL;
        s->ws = NULL;
        s->ws_size = 0;
    }
}

static const float *conv2d_preact(const nnl_layer *l, const float *x)
{
    const conv2d_state *s = l->state;
    return keeps_z(l) ? s->z : NULL; /* relu: never fused with a loss */
}

const nnl_layer_ops nnl_conv2d_kind = {
    .type = "Conv2D",
    .help = "A 2-D convolution over images {height, width, channels} (channels last): "
            "y = activation(conv(x, kernel) + bias).",
    .options = conv2d_options,
    .noptions = O_COUNT,
    .npositional = 2,
    .state_size = sizeof(conv2d_state),
    .init = conv2d_init,
    .plan = conv2d_plan,
    .fill = conv2d_fill,
    .reserve = conv2d_reserve,
    .forward = conv2d_forward,
    .backward = conv2d_backward,
    .destroy = conv2d_destroy,
    .preact = conv2d_preact,
    .draw = NNL_DRAW_MAPS,
};
