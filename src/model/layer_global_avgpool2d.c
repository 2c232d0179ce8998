/* GlobalAveragePooling2D: the mean of each channel over all pixels of an
 * image, as Keras: {h, w, c} per sample -> {c} ({1, 1, c} with keepdims).
 * No weights. Runs on model/pool.h's global pooling (the window kernels
 * over the h*w pixels). */
#include "model/layer.h"

#include "model/pool.h"

enum { O_KEEPDIMS, O_COUNT };

static const nnl_option global_avgpool2d_options[O_COUNT] = {
    [O_KEEPDIMS] = {.key = "keepdims", .type = NNL_OPTION_BOOL, .def = 0,
                    .help = "keep the pixel axes: output {1, 1, c} instead of {c}"},
};

/* Per-sample floats are below 2^31 (pool.h's limit, and that of int32
 * pixel indices). */
#define GLOBAL_POOL_MAX ((size_t)1 << 31)

static nnl_status global_avgpool2d_plan(const nnl_layer *l, const nnl_shape *in,
                                        nnl_shape *out, nnl_weight_spec *w, int *nw,
                                        nnl_error *err)
{
    char b[64];
    if (in->ndim != 3)
        return nnl_fail(err, NNL_ERR_SHAPE, "%s: GlobalAveragePooling2D takes images "
                        "{height, width, channels} per sample, got %s", l->name,
                        nnl_shape_keras(in, b, sizeof b));
    size_t hw = in->d[0] * in->d[1], c = in->d[2];
    if (hw == 0 || c == 0 || hw >= GLOBAL_POOL_MAX / c)
        return nnl_fail(err, NNL_ERR_SHAPE, "%s: input %s is empty or has 2^31 floats or "
                        "more per sample", l->name, nnl_shape_keras(in, b, sizeof b));
    if (l->config[O_KEEPDIMS].num != 0.0)
        *out = (nnl_shape){3, {1, 1, c, 0}};
    else
        *out = (nnl_shape){1, {c, 0, 0, 0}};
    return NNL_OK;
}

static nnl_status global_avgpool2d_forward(nnl_layer *l, size_t batch, const float *x,
                                           float *y, int train, nnl_error *err)
{
    const nnl_shape *in = &l->in_shape;
    nnl_global_avgpool_forward(batch, in->d[0] * in->d[1], in->d[2], x, y);
    return NNL_OK;
}

static nnl_status global_avgpool2d_backward(nnl_layer *l, size_t batch, const float *x,
                                            const float *y, float *dy, float *dx,
                                            nnl_error *err)
{
    const nnl_shape *in = &l->in_shape;
    if (dx)
        nnl_global_avgpool_backward(batch, in->d[0] * in->d[1], in->d[2], dy, dx);
    return NNL_OK;
}

const nnl_layer_ops nnl_global_avgpool2d_kind = {
    .type = "GlobalAveragePooling2D",
    .help = "The mean of each channel over all pixels: {h, w, c} -> {c}.",
    .options = global_avgpool2d_options,
    .noptions = O_COUNT,
    .plan = global_avgpool2d_plan,
    .forward = global_avgpool2d_forward,
    .backward = global_avgpool2d_backward,
    .draw = NNL_DRAW_NONE,
};
