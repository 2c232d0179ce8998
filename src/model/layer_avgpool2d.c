/* AveragePooling2D: The mean of each window of each channel (over its real pixels).
 * Channels last ({h, w, c} per sample), pool_size and strides as a
 * number or {h, w} (strides default to the pool size, as Keras), padding
 * "valid" or "same" (padded pixels never count). The windows run on
 * model/pool.h's vectorised kernels. */
#include "model/layer.h"

#include <stdint.h>
#include "core/alloc.h"
#include "model/conv.h"
#include "model/pool.h"

typedef struct avgpool2d_state {
    nnl_pool2d_geom g;
} avgpool2d_state;

enum { O_POOL, O_STRIDES, O_PADDING, O_COUNT };

static const nnl_option avgpool2d_options[O_COUNT] = {
    [O_POOL] = {.key = "pool_size", .type = NNL_OPTION_SIZES, .def = 2, .count = 2, .min = 1,
                .max = 4096, .help = "window size: p or {ph, pw}"},
    [O_STRIDES] = {.key = "strides", .type = NNL_OPTION_SIZES, .def_like = O_POOL + 1,
                   .count = 2, .min = 1, .max = 4096,
                   .help = "steps between windows: s or {sh, sw}"},
    [O_PADDING] = {.key = "padding", .type = NNL_OPTION_CHOICE, .def_name = "valid",
                   .choice = &nnl_padding_choice, .help = "\"valid\" or \"same\""},
};

static nnl_status geometry(const nnl_layer *l, const nnl_shape *in, nnl_pool2d_geom *g,
                           nnl_error *err)
{
    char b[64];
    if (in->ndim != 3)
        return nnl_fail(err, NNL_ERR_SHAPE, "%s: AveragePooling2D takes images {height, width, "
                        "channels} per sample, got %s", l->name,
                        nnl_shape_keras(in, b, sizeof b));
    const nnl_value *v = l->config;
    nnl_pool2d_spec sp = {in->d[0], in->d[1], in->d[2],
                          (size_t)v[O_POOL].ints[0], (size_t)v[O_POOL].ints[1],
                          (size_t)v[O_STRIDES].ints[0], (size_t)v[O_STRIDES].ints[1],
                          (nnl_padding)v[O_PADDING].num};
    nnl_error e;
    if (nnl_pool2d_geom_init(g, &sp, &e) != NNL_OK)
        return nnl_fail(err, e.code, "%s: %s", l->name, e.msg);
    return NNL_OK;
}

static nnl_status avgpool2d_plan(const nnl_layer *l, const nnl_shape *in, nnl_shape *out,
                              nnl_weight_spec *w, int *nw, nnl_error *err)
{
    nnl_pool2d_geom g;
    nnl_status st = geometry(l, in, &g, err);
    if (st == NNL_OK)
        *out = (nnl_shape){3, {g.oh, g.ow, g.s.c, 0}};
    return st;
}

static void avgpool2d_fill(nnl_layer *l, nnl_rng *rng)
{
    nnl_error e;
    geometry(l, &l->in_shape, &((avgpool2d_state *)l->state)->g, &e); /* the plan checked it */
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
    .options = avgpool2d_options,
    .noptions = O_COUNT,
    .npositional = 1,
    .state_size = sizeof(avgpool2d_state),
    .plan = avgpool2d_plan,
    .fill = avgpool2d_fill,
    .forward = avgpool2d_forward,
    .backward = avgpool2d_backward,
    .draw = NNL_DRAW_MAPS,
};
