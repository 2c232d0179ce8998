/* The layer steps Conv1D and Conv2D share (layer_conv.h): y =
 * activation(conv(x, W) + b) on model/conv.h's 2-D core, the activation
 * applied inside the convolution's passes (nnl_conv2d_forward_act /
 * backward_act) unless it is softmax, which needs whole rows. The
 * workspace and the kept pre-activation are sized once per batch size in
 * reserve, so a training step allocates nothing. */
#include "model/layer_conv.h"

#include "core/alloc.h"
#include "model/layer_pool2d.h"
#include "simd/kernels.h"

nnl_status nnl_conv_layer_init(nnl_layer *l, nnl_error *err)
{
    nnl_conv_layer_state *s = l->state;
    nnl_value *v = l->config;
    l->act = (int)v[NNL_CONV_O_ACT].num;
    if (!v[NNL_CONV_O_ACT_PARAM].given)
        v[NNL_CONV_O_ACT_PARAM].num = nnl_activation_param(l->act);
    l->act_param = (float)v[NNL_CONV_O_ACT_PARAM].num;
    s->use_bias = v[NNL_CONV_O_USE_BIAS].num != 0.0;
    s->kinit = (int)v[NNL_CONV_O_KINIT].num;
    s->binit = (int)v[NNL_CONV_O_BINIT].num;
    l->l1 = (float)v[NNL_CONV_O_KREG].l1;
    l->l2 = (float)v[NNL_CONV_O_KREG].l2;
    return NNL_OK;
}

/* The geometry of l for per-sample input in, from the kind's spec. */
static nnl_status geometry(const nnl_layer *l, const nnl_shape *in, nnl_conv_spec_fn spec,
                           nnl_conv2d_geom *g, nnl_error *err)
{
    nnl_conv2d_spec sp;
    nnl_status st = spec(l, in, &sp, err);
    if (st != NNL_OK)
        return st;
    nnl_error e;
    if (nnl_conv2d_geom_init(g, &sp, &e) != NNL_OK)
        return nnl_fail(err, e.code, "%s: %s", l->name, e.msg);
    return NNL_OK;
}

nnl_status nnl_conv_layer_plan(const nnl_layer *l, const nnl_shape *in, nnl_conv_spec_fn spec,
                               nnl_shape *out, nnl_weight_spec *w, int *nw, nnl_error *err)
{
    nnl_conv2d_geom g;
    nnl_status st = geometry(l, in, spec, &g, err);
    if (st != NNL_OK)
        return st;
    /* rank 1 (sequences) drops the leading h = 1 of the 2-D core's shapes */
    int drop = in->ndim == 2;
    size_t od[3] = {g.oh, g.ow, g.s.cout}, kd[4] = {g.s.kh, g.s.kw, g.s.cin, g.s.cout};
    *out = (nnl_shape){3 - drop, {0}};
    w[0] = (nnl_weight_spec){"kernel", {4 - drop, {0}}, 1, 1};
    for (int i = drop; i < 4; i++) {
        if (i < 3)
            out->d[i - drop] = od[i];
        w[0].shape.d[i - drop] = kd[i];
    }
    *nw = 1;
    if (((const nnl_conv_layer_state *)l->state)->use_bias)
        w[(*nw)++] = (nnl_weight_spec){"bias", {1, {g.s.cout, 0, 0, 0}}, 1, 0};
    return NNL_OK;
}

void nnl_conv_layer_fill(nnl_layer *l, nnl_conv_spec_fn spec, nnl_rng *rng)
{
    nnl_conv_layer_state *s = l->state;
    nnl_error e;
    geometry(l, &l->in_shape, spec, &s->g, &e); /* the plan checked it */
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

nnl_status nnl_conv_layer_reserve(nnl_layer *l, size_t batch, nnl_error *err)
{
    nnl_conv_layer_state *s = l->state;
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

nnl_status nnl_conv_layer_forward(nnl_layer *l, size_t batch, const float *x, float *y,
                                  int train, nnl_error *err)
{
    nnl_conv_layer_state *s = l->state;
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

nnl_status nnl_conv_layer_backward(nnl_layer *l, size_t batch, const float *x, const float *y,
                                   float *dy, float *dx, nnl_error *err)
{
    nnl_conv_layer_state *s = l->state;
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

void nnl_conv_layer_destroy(nnl_layer *l)
{
    nnl_conv_layer_state *s = l->state;
    if (s) {
        nnl_free(s->z);
        nnl_free(s->ws);
        s->z = NULL;
        s->ws = NULL;
        s->ws_size = 0;
    }
}

const float *nnl_conv_layer_preact(const nnl_layer *l, const float *x)
{
    const nnl_conv_layer_state *s = l->state;
    return keeps_z(l) ? s->z : NULL; /* relu: never fused with a loss */
}

/* The pooling state of next when it is a max pooling (MaxPooling2D or
 * MaxPooling1D: their steps are layer_maxpool2d.c's), else NULL. */
static const nnl_pool_layer_state *max_pool_of(const nnl_layer *next)
{
    return next->ops->forward == nnl_maxpool_layer_forward ? next->state : NULL;
}

int nnl_conv_layer_fuse_next(const nnl_layer *l, const nnl_layer *next)
{
    const nnl_conv_layer_state *s = l->state;
    const nnl_pool_layer_state *p = max_pool_of(next);
    if (!p || !l->built || !next->built || l->act_fused || next->act_fused)
        return 0;
    if (l->act != NNL_ACT_LINEAR && l->act != NNL_ACT_RELU)
        return 0;
    return nnl_conv2d_pool_fits(&s->g, &p->g, nnl_act_kernel(l->act));
}

nnl_status nnl_conv_layer_fused_forward(nnl_layer *l, nnl_layer *next, size_t batch,
                                        const float *x, float *y, nnl_error *err)
{
    (void)err;
    nnl_conv_layer_state *s = l->state;
    nnl_pool_layer_state *p = next->state;
    nnl_conv2d_pool_forward(&s->g, &p->g, batch, x, l->params[0].w,
                            s->use_bias ? l->params[1].w : NULL, nnl_act_kernel(l->act),
                            l->act_param, y, p->arg);
    return NNL_OK;
}

nnl_status nnl_conv_layer_fused_backward(nnl_layer *l, nnl_layer *next, size_t batch,
                                         const float *x, const float *y, float *dy,
                                         float *dx, nnl_error *err)
{
    (void)err;
    nnl_conv_layer_state *s = l->state;
    nnl_pool_layer_state *p = next->state;
    nnl_conv2d_pool_backward(&s->g, &p->g, batch, x, l->params[0].w, nnl_act_kernel(l->act),
                             l->act_param, y, p->arg, dy, l->params[0].g,
                             s->use_bias ? l->params[1].g : NULL, dx, s->ws);
    return NNL_OK;
}
