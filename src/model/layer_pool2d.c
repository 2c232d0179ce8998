/* The options, geometry, plan, fill and buffers the pooling kinds share
 * (layer_pool2d.h). */
#include "model/layer_pool2d.h"

#include "core/alloc.h"
#include "model/conv.h"

const nnl_option nnl_pool2d_options[NNL_POOL2D_O_COUNT] =
    NNL_POOL_OPTIONS(2, "window size: p or {ph, pw}", "steps between windows: s or {sh, sw}");

/* The geometry of l for per-sample input in, from the kind's spec. */
static nnl_status geometry(const nnl_layer *l, const nnl_shape *in, nnl_pool_spec_fn spec,
                           nnl_pool2d_geom *g, nnl_error *err)
{
    nnl_pool2d_spec sp;
    nnl_status st = spec(l, in, &sp, err);
    if (st != NNL_OK)
        return st;
    nnl_error e;
    if (nnl_pool2d_geom_init(g, &sp, &e) != NNL_OK)
        return nnl_fail(err, e.code, "%s: %s", l->name, e.msg);
    return NNL_OK;
}

nnl_status nnl_pool_layer_plan(const nnl_layer *l, const nnl_shape *in, nnl_pool_spec_fn spec,
                               nnl_shape *out, nnl_error *err)
{
    nnl_pool2d_geom g;
    nnl_status st = geometry(l, in, spec, &g, err);
    if (st != NNL_OK)
        return st;
    if (in->ndim == 2) /* sequences: the 2-D code's h = 1 dropped */
        *out = (nnl_shape){2, {g.ow, g.s.c, 0, 0}};
    else
        *out = (nnl_shape){3, {g.oh, g.ow, g.s.c, 0}};
    return NNL_OK;
}

void nnl_pool_layer_fill(nnl_layer *l, nnl_pool_spec_fn spec)
{
    nnl_error e;
    geometry(l, &l->in_shape, spec, &((nnl_pool_layer_state *)l->state)->g, &e);
}

/* The spec of a 2-D window kind for per-sample input in. */
static nnl_status pool2d_spec(const nnl_layer *l, const nnl_shape *in, nnl_pool2d_spec *sp,
                              nnl_error *err)
{
    char b[64];
    if (in->ndim != 3)
        return nnl_fail(err, NNL_ERR_SHAPE, "%s: %s takes images {height, width, channels} "
                        "per sample, got %s", l->name, l->ops->type,
                        nnl_shape_keras(in, b, sizeof b));
    const nnl_value *v = l->config;
    *sp = (nnl_pool2d_spec){in->d[0], in->d[1], in->d[2],
                            (size_t)v[NNL_POOL2D_O_POOL].ints[0],
                            (size_t)v[NNL_POOL2D_O_POOL].ints[1],
                            (size_t)v[NNL_POOL2D_O_STRIDES].ints[0],
                            (size_t)v[NNL_POOL2D_O_STRIDES].ints[1],
                            (nnl_padding)v[NNL_POOL2D_O_PADDING].num};
    return NNL_OK;
}

nnl_status nnl_pool2d_layer_plan(const nnl_layer *l, const nnl_shape *in, nnl_shape *out,
                                 nnl_weight_spec *w, int *nw, nnl_error *err)
{
    return nnl_pool_layer_plan(l, in, pool2d_spec, out, err);
}

void nnl_pool2d_layer_fill(nnl_layer *l, nnl_rng *rng)
{
    nnl_pool_layer_fill(l, pool2d_spec);
}

nnl_status nnl_pool_layer_arg(nnl_layer *l, size_t bytes, size_t batch, nnl_error *err)
{
    nnl_pool_layer_state *s = l->state;
    void *a = nnl_malloc(bytes);
    if (!a)
        return nnl_fail(err, NNL_ERR_NOMEM, "%s: out of memory for a batch of %zu", l->name,
                        batch);
    nnl_free(s->arg);
    s->arg = a;
    return NNL_OK;
}

void nnl_pool_layer_destroy(nnl_layer *l)
{
    nnl_pool_layer_state *s = l->state;
    if (s) {
        nnl_free(s->arg);
        s->arg = NULL;
    }
}
