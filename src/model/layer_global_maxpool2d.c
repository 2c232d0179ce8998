/* GlobalMaxPooling2D: the largest value of each channel over all pixels of
 * an image, as Keras: {h, w, c} per sample -> {c} ({1, 1, c} with
 * keepdims). No weights. Runs on model/pool.h's global pooling, which
 * keeps the winning pixel of each channel (the first maximum) for the
 * backward pass in a buffer sized once per batch size. */
#include "model/layer.h"

#include <stdint.h>
#include "core/alloc.h"
#include "model/pool.h"

typedef struct global_maxpool2d_state {
    int32_t *arg;        /* owned: the winning pixel per output, reserved size */
} global_maxpool2d_state;

enum { O_KEEPDIMS, O_COUNT };

static const nnl_option global_maxpool2d_options[O_COUNT] = {
    [O_KEEPDIMS] = {.key = "keepdims", .type = NNL_OPTION_BOOL, .def = 0,
                    .help = "keep the pixel axes: output {1, 1, c} instead of {c}"},
};

/* Per-sample floats are below 2^31 (pool.h's limit, and that of the int32
 * pixel indices). */
#define GLOBAL_POOL_MAX ((size_t)1 << 31)

static nnl_status global_maxpool2d_plan(const nnl_layer *l, const nnl_shape *in,
                                        nnl_shape *out, nnl_weight_spec *w, int *nw,
                                        nnl_error *err)
{
    char b[64];
    if (in->ndim != 3)
        return nnl_fail(err, NNL_ERR_SHAPE, "%s: GlobalMaxPooling2D takes images "
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

static nnl_status global_maxpool2d_reserve(nnl_layer *l, size_t batch, nnl_error *err)
{
    global_maxpool2d_state *s = l->state;
    int32_t *a = nnl_malloc(batch * l->in_shape.d[2] * sizeof *a);
    if (!a)
        return nnl_fail(err, NNL_ERR_NOMEM, "%s: out of memory for a batch of %zu", l->name,
                        batch);
    nnl_free(s->arg);
    s->arg = a;
    return NNL_OK;
}

static nnl_status global_maxpool2d_forward(nnl_layer *l, size_t batch, const float *x,
                                           float *y, int train, nnl_error *err)
{
    const nnl_shape *in = &l->in_shape;
    global_maxpool2d_state *s = l->state;
    nnl_global_maxpool_forward(batch, in->d[0] * in->d[1], in->d[2], x, y, s->arg);
    return NNL_OK;
}

static nnl_status global_maxpool2d_backward(nnl_layer *l, size_t batch, const float *x,
                                            const float *y, float *dy, float *dx,
                                            nnl_error *err)
{
    const nnl_shape *in = &l->in_shape;
    global_maxpool2d_state *s = l->state;
    if (dx)
        nnl_global_maxpool_backward(batch, in->d[0] * in->d[1], in->d[2], dy, s->arg, dx);
    return NNL_OK;
}

static void global_maxpool2d_destroy(nnl_layer *l)
{
    global_maxpool2d_state *s = l->state;
    if (s) {
        nnl_free(s->arg);
        s->arg = NULL;
    }
}

const nnl_layer_ops nnl_global_maxpool2d_kind = {
    .type = "GlobalMaxPooling2D",
    .help = "The largest value of each channel over all pixels: {h, w, c} -> {c}.",
    .options = global_maxpool2d_options,
    .noptions = O_COUNT,
    .state_size = sizeof(global_maxpool2d_state),
    .plan = global_maxpool2d_plan,
    .reserve = global_maxpool2d_reserve,
    .forward = global_maxpool2d_forward,
    .backward = global_maxpool2d_backward,
    .destroy = global_maxpool2d_destroy,
    .draw = NNL_DRAW_NONE,
};
