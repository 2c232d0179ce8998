/* MaxPooling1D: the largest value of each window of steps of each channel.
 * Channels last ({steps, c} per sample), pool_size (2) and strides as a
 * number or {n} (strides default to the pool size, as Keras), padding
 * "valid" or "same" (padded steps never count). It is MaxPooling2D's core
 * (model/pool.h) with a height of 1 (nnl_pool1d_spec: the same memory). */
#include "model/layer.h"

#include <stdint.h>
#include "core/alloc.h"
#include "model/conv.h"
#include "model/pool.h"

typedef struct maxpool1d_state {
    nnl_pool2d_geom g;
    int32_t *arg;        /* owned: the winning pixel per output, reserved size */
} maxpool1d_state;

enum { O_POOL, O_STRIDES, O_PADDING, O_COUNT };

static const nnl_option maxpool1d_options[O_COUNT] = {
    [O_POOL] = {.key = "pool_size", .type = NNL_OPTION_SIZES, .def = 2, .count = 1, .min = 1,
                .max = 4096, .help = "window length: p or {p}"},
    [O_STRIDES] = {.key = "strides", .type = NNL_OPTION_SIZES, .def_like = O_POOL + 1,
                   .count = 1, .min = 1, .max = 4096,
                   .help = "steps between windows: s or {s}"},
    [O_PADDING] = {.key = "padding", .type = NNL_OPTION_CHOICE, .def_name = "valid",
                   .choice = &nnl_padding_choice, .help = "\"valid\" or \"same\""},
};

static nnl_status geometry(const nnl_layer *l, const nnl_shape *in, nnl_pool2d_geom *g,
                           nnl_error *err)
{
    char b[64];
    if (in->ndim != 2)
        return nnl_fail(err, NNL_ERR_SHAPE, "%s: MaxPooling1D takes sequences {steps, "
                        "channels} per sample, got %s", l->name,
                        nnl_shape_keras(in, b, sizeof b));
    const nnl_value *v = l->config;
    nnl_pool2d_spec sp = nnl_pool1d_spec(in->d[0], in->d[1], (size_t)v[O_POOL].ints[0],
                                         (size_t)v[O_STRIDES].ints[0],
                                         (nnl_padding)v[O_PADDING].num);
    /* The one error a user meets often, said in steps rather than in the
     * 2-D core's terms. */
    if (sp.padding == NNL_PAD_VALID && sp.pw > sp.w)
        return nnl_fail(err, NNL_ERR_SHAPE, "%s: pool_size %zu is longer than the %zu steps "
                        "of the input (\"valid\" padding leaves no output)", l->name, sp.pw,
                        sp.w);
    nnl_error e;
    if (nnl_pool2d_geom_init(g, &sp, &e) != NNL_OK)
        return nnl_fail(err, e.code, "%s: %s", l->name, e.msg);
    return NNL_OK;
}

static nnl_status maxpool1d_plan(const nnl_layer *l, const nnl_shape *in, nnl_shape *out,
                              nnl_weight_spec *w, int *nw, nnl_error *err)
{
    nnl_pool2d_geom g;
    nnl_status st = geometry(l, in, &g, err);
    if (st == NNL_OK)
        *out = (nnl_shape){2, {g.ow, g.s.c, 0, 0}};
    return st;
}

static void maxpool1d_fill(nnl_layer *l, nnl_rng *rng)
{
    nnl_error e;
    geometry(l, &l->in_shape, &((maxpool1d_state *)l->state)->g, &e); /* the plan checked it */
}

static nnl_status maxpool1d_reserve(nnl_layer *l, size_t batch, nnl_error *err)
{
    maxpool1d_state *s = l->state;
    int32_t *a = nnl_malloc(batch * s->g.out_size * sizeof *a);
    if (!a)
        return nnl_fail(err, NNL_ERR_NOMEM, "%s: out of memory for a batch of %zu", l->name,
                        batch);
    nnl_free(s->arg);
    s->arg = a;
    return NNL_OK;
}

static nnl_status maxpool1d_forward(nnl_layer *l, size_t batch, const float *x, float *y,
                                 int train, nnl_error *err)
{
    maxpool1d_state *s = l->state;
    nnl_maxpool2d_forward(&s->g, batch, x, y, s->arg);
    return NNL_OK;
}

static nnl_status maxpool1d_backward(nnl_layer *l, size_t batch, const float *x, const float *y,
                                  float *dy, float *dx, nnl_error *err)
{
    maxpool1d_state *s = l->state;
    if (dx)
        nnl_maxpool2d_backward(&s->g, batch, dy, s->arg, dx);
    return NNL_OK;
}

static void maxpool1d_destroy(nnl_layer *l)
{
    maxpool1d_state *s = l->state;
    if (s) {
        nnl_free(s->arg);
        s->arg = NULL;
    }
}

const nnl_layer_ops nnl_maxpool1d_kind = {
    .type = "MaxPooling1D",
    .help = "The largest value of each window of steps of each channel.",
    .options = maxpool1d_options,
    .noptions = O_COUNT,
    .npositional = 1,
    .state_size = sizeof(maxpool1d_state),
    .plan = maxpool1d_plan,
    .fill = maxpool1d_fill,
    .reserve = maxpool1d_reserve,
    .forward = maxpool1d_forward,
    .backward = maxpool1d_backward,
    .destroy = maxpool1d_destroy,
    .draw = NNL_DRAW_MAPS,
};
