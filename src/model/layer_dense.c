/* Dense: y = act(x W + b) over the last dimension of the input.
 *
 * The product and the bias run in one GEMM (bias in its epilogue) into the
 * pre-activation z, which is kept for the backward pass; the activation
 * then maps z to y. Backward: dz = dy * act'(z) (or dy itself when the
 * activation is fused with the loss), dW = x^T dz, db = column sums of dz,
 * dx = dz W^T. */
#include "model/layer.h"

#include <string.h>
#include "core/alloc.h"
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

static nnl_status dense_build(nnl_layer *l, nnl_rng *rng, nnl_error *err)
{
    dense_state *s = l->state;
    size_t in = l->in_shape.d[l->in_shape.ndim - 1];
    nnl_shape ks = {2, {in, s->units, 0, 0}};
    nnl_shape bs = {1, {s->units, 0, 0, 0}};
    nnl_status st = nnl_param_alloc(&l->params[0], "kernel", &ks, 1, err);
    if (st != NNL_OK)
        return st;
    l->params[0].regularized = 1;
    l->nparams = 1;
    nnl_init_fill(s->opts.kernel_init, l->params[0].w, l->params[0].n, in, s->units, rng);
    if (s->opts.use_bias) {
        st = nnl_param_alloc(&l->params[1], "bias", &bs, 1, err);
        if (st != NNL_OK)
            return st;
        l->nparams = 2;
        nnl_init_fill(s->opts.bias_init, l->params[1].w, s->units, in, s->units, rng);
    }
    l->out_shape = l->in_shape;
    l->out_shape.d[l->out_shape.ndim - 1] = s->units;
    return NNL_OK;
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
    nnl_gemm_epilogue ep = {s->opts.use_bias ? l->params[1].w : NULL, NNL_ACT_LINEAR, 0.0f};
    nnl_status st = nnl_gemm_ex(NNL_NOTRANS, NNL_NOTRANS, rows, units, in, 1.0f,
                                x, in, l->params[0].w, units, 0.0f, z, units, &ep, err);
    if (st != NNL_OK)
        return st;
    const nnl_kernels *k = nnl_kernels_active();
    if (l->act == NNL_ACT_SOFTMAX)
        k->softmax_rows(rows, units, z, units, y, units);
    else if (l->act != NNL_ACT_LINEAR)
        k->act_fwd((nnl_act)l->act, l->act_param, rows * units, z, y);
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
            k->act_bwd((nnl_act)l->act, l->act_param, rows * units, s->z, y, dy, dz);
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

static const nnl_layer_ops dense_ops = {
    NNL_LAYER_DENSE, "Dense", dense_build, dense_reserve, dense_forward,
    dense_backward, dense_destroy,
};

nnl_layer *nnl_dense_new(size_t units, const nnl_dense_opts *o, nnl_error *err)
{
    nnl_dense_opts def;
    if (!o) {
        nnl_dense_opts_default(&def);
        o = &def;
    }
    if (units == 0) {
        nnl_fail(err, NNL_ERR_ARG, "nn.Dense: units must be a positive integer, got 0");
        return NULL;
    }
    if (o->act < 0 || o->act >= NNL_ACT_COUNT || o->kernel_init < 0 ||
        o->kernel_init >= NNL_INIT_COUNT || o->bias_init < 0 ||
        o->bias_init >= NNL_INIT_COUNT) {
        nnl_fail(err, NNL_ERR_ARG, "nn.Dense: bad activation or initializer");
        return NULL;
    }
    if (!(o->l1 >= 0.0f) || !(o->l2 >= 0.0f)) {
        nnl_fail(err, NNL_ERR_ARG, "nn.Dense: kernel_regularizer l1/l2 must be >= 0");
        return NULL;
    }
    nnl_layer *l = nnl_layer_alloc(&dense_ops, sizeof(dense_state), err);
    if (!l)
        return NULL;
    dense_state *s = l->state;
    s->units = units;
    s->opts = *o;
    l->act = o->act;
    l->act_param = o->act_param;
    l->l1 = o->l1;
    l->l2 = o->l2;
    return l;
}

size_t nnl_dense_units(const nnl_layer *l)
{
    return l->ops->kind == NNL_LAYER_DENSE ? ((const dense_state *)l->state)->units : 0;
}

const float *nnl_layer_preact(const nnl_layer *l, const float *x)
{
    if (l->ops->kind == NNL_LAYER_ACTIVATION)
        return x;
    if (l->ops->kind != NNL_LAYER_DENSE)
        return NULL;
    const dense_state *s = l->state;
    return l->act == NNL_ACT_LINEAR ? NULL : s->z;
}

const nnl_dense_opts *nnl_dense_options(const nnl_layer *l)
{
    return l->ops->kind == NNL_LAYER_DENSE ? &((const dense_state *)l->state)->opts : NULL;
}
