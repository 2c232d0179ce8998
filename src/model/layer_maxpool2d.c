/* MaxPooling2D: The largest value of each window of each channel.
 * Channels last ({h, w, c} per sample), pool_size and strides as a
 * number or {h, w} (strides default to the pool size, as Keras), padding
 * "valid" or "same" (padded pixels never count). The windows run on
 * model/pool.h's vectorised kernels. */
#include "model/layer.h"

#include <stdint.h>
#include "core/alloc.h"
#include "model/layer_pool2d.h"
#include "model/pool.h"

typedef struct maxpool2d_state {
    nnl_pool2d_geom g;
    void *arg;           /* owned: the winners (pool.h), reserved size */
} maxpool2d_state;

static nnl_status maxpool2d_plan(const nnl_layer *l, const nnl_shape *in, nnl_shape *out,
                              nnl_weight_spec *w, int *nw, nnl_error *err)
{
    nnl_pool2d_geom g;
    nnl_status st = nnl_pool2d_layer_geometry(l, in, &g, err);
    if (st == NNL_OK)
        *out = (nnl_shape){3, {g.oh, g.ow, g.s.c, 0}};
    return st;
}

static void maxpool2d_fill(nnl_layer *l, nnl_rng *rng)
{
    nnl_error e;
    /* the plan checked it */
    nnl_pool2d_layer_geometry(l, &l->in_shape, &((maxpool2d_state *)l->state)->g, &e);
}

static nnl_status maxpool2d_reserve(nnl_layer *l, size_t batch, nnl_error *err)
{
    maxpool2d_state *s = l->state;
    void *a = nnl_malloc(batch * nnl_maxpool2d_arg_bytes(&s->g));
    if (!a)
        return nnl_fail(err, NNL_ERR_NOMEM, "%s: out of memory for a batch of %zu", l->name,
                        batch);
    nnl_free(s->arg);
    s->arg = a;
    return NNL_OK;
}

static nnl_status maxpool2d_forward(nnl_layer *l, size_t batch, const float *x, float *y,
                                 int train, nnl_error *err)
{
    maxpool2d_state *s = l->state;
    nnl_maxpool2d_forward(&s->g, batch, x, y, s->arg);
    return NNL_OK;
}

static nnl_status maxpool2d_backward(nnl_layer *l, size_t batch, const float *x, const float *y,
                                  float *dy, float *dx, nnl_error *err)
{
    maxpool2d_state *s = l->state;
    if (dx)
        nnl_maxpool2d_backward(&s->g, batch, dy, s->arg, dx);
    return NNL_OK;
}

static void maxpool2d_destroy(nnl_layer *l)
{
    maxpool2d_state *s = l->state;
    if (s) {
        nnl_free(s->arg);
        s->arg = NULL;
    }
}

const nnl_layer_ops nnl_maxpool2d_kind = {
    .type = "MaxPooling2D",
    .help = "The largest value of each window of each channel.",
    .options = nnl_pool2d_options,
    .noptions = NNL_POOL2D_O_COUNT,
    .npositional = 1,
    .state_size = sizeof(maxpool2d_state),
    .plan = maxpool2d_plan,
    .fill = maxpool2d_fill,
    .reserve = maxpool2d_reserve,
    .forward = maxpool2d_forward,
    .backward = maxpool2d_backward,
    .destroy = maxpool2d_destroy,
    .draw = NNL_DRAW_MAPS,
};
