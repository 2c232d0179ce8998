/* The layer interface: the parts shared by every kind (allocation, names,
 * shapes, building with checks, parameter counts). See layer.h. */
#include "model/layer.h"
#include "tensor/autograd.h"

#include <stdio.h>
#include <string.h>
#include "core/alloc.h"
#include "simd/kernels.h"

size_t nnl_shape_numel(const nnl_shape *s)
{
    size_t n = 1;
    for (int i = 0; i < s->ndim; i++)
        n *= s->d[i];
    return n;
}

char *nnl_shape_keras(const nnl_shape *s, char *buf, size_t size)
{
    size_t used = (size_t)snprintf(buf, size, "(None");
    for (int i = 0; i < s->ndim && used < size; i++)
        used += (size_t)snprintf(buf + used, size - used, ", %zu", s->d[i]);
    if (used < size)
        snprintf(buf + used, size - used, ")");
    return buf;
}

static int shape_equal(const nnl_shape *a, const nnl_shape *b)
{
    if (a->ndim != b->ndim)
        return 0;
    for (int i = 0; i < a->ndim; i++)
        if (a->d[i] != b->d[i])
            return 0;
    return 1;
}

const char *const nnl_layer_common_options[] = {"name", "input_shape", "input_dim", NULL};

const nnl_layer_ops *nnl_layer_kind(const char *type)
{
    for (int i = 0; nnl_layer_kinds[i]; i++)
        if (strcmp(nnl_layer_kinds[i]->type, type) == 0)
            return nnl_layer_kinds[i];
    return NULL;
}

char *nnl_layer_snake(const char *type, char *buf, size_t size)
{
    size_t o = 0;
    for (size_t i = 0; type[i] && o + 2 < size; i++) {
        char c = type[i];
        int upper = c >= 'A' && c <= 'Z';
        if (upper && i > 0 && type[i - 1] >= 'a' && type[i - 1] <= 'z')
            buf[o++] = '_';
        buf[o++] = upper ? (char)(c - 'A' + 'a') : c;
    }
    if (size)
        buf[o < size ? o : size - 1] = '\0';
    return buf;
}

nnl_layer *nnl_layer_create(const nnl_layer_ops *ops, const nnl_value *v, nnl_error *err)
{
    if (ops->noptions > NNL_OPTIONS_MAX) {
        nnl_fail(err, NNL_ERR_ARG, "%s declares %zu options (at most %d)", ops->type,
                 ops->noptions, NNL_OPTIONS_MAX);
        return NULL;
    }
    nnl_value vals[NNL_OPTIONS_MAX];
    if (ops->noptions)
        memcpy(vals, v, ops->noptions * sizeof *v);
    /* Defaults taken from another option (strides = pool_size) follow the
     * value that option was given. */
    nnl_values_resolve(ops->options, ops->noptions, vals);
    for (size_t i = 0; i < ops->noptions; i++)
        if (nnl_value_check(&ops->options[i], &vals[i], err) != NNL_OK)
            return NULL;
    v = vals;
    nnl_layer *l = nnl_calloc(1, sizeof *l);
    if (!l) {
        nnl_fail(err, NNL_ERR_NOMEM, "out of memory for a %s layer", ops->type);
        return NULL;
    }
    l->ops = ops;
    if (ops->kind_ref)
        ops->kind_ref(ops, 1);
    if (!(l->life = nnl_calloc(1, sizeof *l->life))) {
        if (ops->kind_ref)
            ops->kind_ref(ops, -1);
        nnl_free(l);
        nnl_fail(err, NNL_ERR_NOMEM, "out of memory for a %s layer", ops->type);
        return NULL;
    }
    l->life->refs = 1;
    l->life->obj = l;
    snprintf(l->name, sizeof l->name, "%s", ops->type);
    if (ops->noptions)
        memcpy(l->config, v, ops->noptions * sizeof *v);
    if (ops->state_size && !(l->state = nnl_calloc(1, ops->state_size))) {
        nnl_free(l->life);
        if (ops->kind_ref)
            ops->kind_ref(ops, -1);
        nnl_free(l);
        nnl_fail(err, NNL_ERR_NOMEM, "out of memory for a %s layer", ops->type);
        return NULL;
    }
    if (ops->init && ops->init(l, err) != NNL_OK) {
        nnl_layer_free(l);
        return NULL;
    }
    return l;
}

int nnl_layer_option(const nnl_layer *l, const char *key)
{
    return nnl_option_find(l->ops->options, l->ops->noptions, key);
}

const nnl_value *nnl_layer_value(const nnl_layer *l, const char *key)
{
    int i = nnl_layer_option(l, key);
    return i < 0 ? NULL : &l->config[i];
}

const float *nnl_layer_preact(const nnl_layer *l, const float *x)
{
    return l->ops->preact ? l->ops->preact(l, x) : NULL;
}

void nnl_layer_seed(nnl_layer *l, uint64_t seed)
{
    nnl_rng *r = l->ops->rng ? l->ops->rng(l) : NULL;
    if (r)
        nnl_rng_seed(r, seed);
}

nnl_status nnl_param_alloc(nnl_param *p, const char *name, const nnl_shape *shape,
                           int trainable, nnl_error *err)
{
    snprintf(p->name, sizeof p->name, "%s", name);
    p->shape = *shape;
    size_t n = 1;
    for (int i = 0; i < shape->ndim; i++) {
        if (shape->d[i] && n > NNL_ALLOC_MAX / sizeof(float) / shape->d[i]) {
            p->w = p->g = NULL;
            p->wt = NULL;
            return nnl_fail(err, NNL_ERR_ARG, "%s: too many weights (over %zu bytes)", name,
                            (size_t)NNL_ALLOC_MAX);
        }
        n *= shape->d[i];
    }
    p->n = n;
    p->trainable = trainable;
    nnl_error e2;
    p->wt = nnl_tensor_new(shape->ndim, shape->d, &e2);
    p->g = trainable ? nnl_calloc(p->n ? p->n : 1, sizeof(float)) : NULL;
    if (!p->wt || (trainable && !p->g) ||
        (trainable && nnl_ag_requires_grad(p->wt, 1, &e2) != NNL_OK)) {
        nnl_tensor_free(p->wt);
        nnl_free(p->g);
        p->wt = NULL;
        p->w = p->g = NULL;
        return nnl_fail(err, NNL_ERR_NOMEM, "%s: out of memory for %zu weights",
                        name, p->n);
    }
    p->w = p->wt->data;
    if (p->wt->node)
        p->wt->node->pinned = 1;
    return NNL_OK;
}

void nnl_layer_free(nnl_layer *l)
{
    if (!l)
        return;
    if (l->ops->destroy)
        l->ops->destroy(l);
    for (int i = 0; i < l->nparams; i++) {
        nnl_tensor_free(l->params[i].wt);
        nnl_free(l->params[i].g);
    }
    nnl_free(l->state);
    if (l->life) {
        l->life->obj = NULL;
        nnl_life_release(l->life);
    }
    const nnl_layer_ops *ops = l->ops;
    nnl_free(l);
    if (ops->kind_ref)
        ops->kind_ref(ops, -1);
}

void nnl_layer_set_name(nnl_layer *l, const char *name)
{
    snprintf(l->name, sizeof l->name, "%s", name);
}

nnl_status nnl_layer_set_input_shape(nnl_layer *l, const nnl_shape *s, nnl_error *err)
{
    if (s->ndim < 1 || s->ndim > NNL_MAX_DIMS - 1)
        return nnl_fail(err, NNL_ERR_ARG, "%s: input shape must have 1 to %d "
                        "dimensions, got %d", l->name, NNL_MAX_DIMS - 1, s->ndim);
    size_t n = 1;
    for (int i = 0; i < s->ndim; i++) {
        if (s->d[i] == 0)
            return nnl_fail(err, NNL_ERR_ARG, "%s: input shape has a zero "
                            "dimension", l->name);
        /* A sample must fit in memory; later sizes (a Flatten's output, a
         * batch of samples) are products of these and must not overflow. */
        if (s->d[i] > NNL_ALLOC_MAX / sizeof(float) / n) {
            char b[96];
            return nnl_fail(err, NNL_ERR_ARG, "%s: input shape %s is too large (one "
                            "sample over %zu bytes)", l->name,
                            nnl_shape_keras(s, b, sizeof b), (size_t)NNL_ALLOC_MAX);
        }
        n *= s->d[i];
    }
    l->in_shape = *s;
    l->has_input_shape = 1;
    return NNL_OK;
}

nnl_status nnl_layer_plan(const nnl_layer *l, const nnl_shape *in, nnl_shape *out,
                          nnl_weight_spec *w, int *nw, nnl_error *err)
{
    char a[64], b[64];
    if (l->has_input_shape && !shape_equal(&l->in_shape, in))
        return nnl_fail(err, NNL_ERR_SHAPE, "%s: declared input shape %s but "
                        "receives %s", l->name,
                        nnl_shape_keras(&l->in_shape, a, sizeof a),
                        nnl_shape_keras(in, b, sizeof b));
    *nw = 0;
    memset(out, 0, sizeof *out);
    nnl_status st = l->ops->plan(l, in, out, w, nw, err);
    if (st != NNL_OK)
        return st;
    if (*nw < 0 || *nw > NNL_LAYER_MAX_PARAMS || out->ndim < 1 || out->ndim > NNL_MAX_DIMS - 1)
        return nnl_fail(err, NNL_ERR_ARG, "%s: a %s layer planned %d weights and a "
                        "%d-dimensional output", l->name, l->ops->type, *nw, out->ndim);
    /* A sample's output must fit in memory: batch sizes multiply it. */
    size_t n = 1;
    for (int i = 0; i < out->ndim; i++) {
        if (out->d[i] == 0 || out->d[i] > NNL_ALLOC_MAX / sizeof(float) / n)
            return nnl_fail(err, NNL_ERR_ARG, "%s: output shape %s is %s", l->name,
                            nnl_shape_keras(out, a, sizeof a),
                            out->d[i] == 0 ? "empty" : "too large");
        n *= out->d[i];
    }
    return NNL_OK;
}

nnl_status nnl_layer_build(nnl_layer *l, const nnl_shape *in, nnl_rng *rng,
                           nnl_error *err)
{
    char a[64], b[64];
    if (l->built) {
        if (shape_equal(&l->in_shape, in))
            return NNL_OK;
        return nnl_fail(err, NNL_ERR_SHAPE, "%s: built for input %s, got %s",
                        l->name, nnl_shape_keras(&l->in_shape, a, sizeof a),
                        nnl_shape_keras(in, b, sizeof b));
    }
    nnl_weight_spec w[NNL_LAYER_MAX_PARAMS];
    int nw;
    nnl_shape out;
    nnl_status st = nnl_layer_plan(l, in, &out, w, &nw, err);
    if (st != NNL_OK)
        return st;
    for (int i = 0; i < nw; i++) {
        st = l->ops->adopt ? l->ops->adopt(l, i, &l->params[i], err)
                           : nnl_param_alloc(&l->params[i], w[i].name, &w[i].shape,
                                             w[i].trainable, err);
        if (st != NNL_OK) {
            /* A failed build leaves the layer as it was: unbuilt, no weights. */
            nnl_layer_unbuild(l);
            return st;
        }
        l->params[i].regularized = w[i].regularized;
        l->nparams = i + 1;
    }
    l->in_shape = *in;
    l->out_shape = out;
    if (l->ops->fill)
        l->ops->fill(l, rng);
    l->built = 1;
    return NNL_OK;
}

void nnl_layer_unbuild(nnl_layer *l)
{
    for (int i = 0; i < l->nparams; i++) {
        nnl_tensor_free(l->params[i].wt);
        nnl_free(l->params[i].g);
        l->params[i].wt = NULL;
        l->params[i].w = l->params[i].g = NULL;
    }
    l->nparams = 0;
    l->built = 0;
    memset(&l->out_shape, 0, sizeof l->out_shape);
    /* The scratch was sized for the old shape. */
    if (l->ops->destroy)
        l->ops->destroy(l);
    l->reserved = 0;
    if (!l->has_input_shape)
        memset(&l->in_shape, 0, sizeof l->in_shape);
}

nnl_status nnl_layer_reserve(nnl_layer *l, size_t batch, nnl_error *err)
{
    if (batch <= l->reserved)
        return NNL_OK;
    if (l->ops->reserve) {
        nnl_status st = l->ops->reserve(l, batch, err);
        if (st != NNL_OK)
            return st;
    }
    l->reserved = batch;
    return NNL_OK;
}

nnl_status nnl_layer_forward(nnl_layer *l, size_t batch, const float *x, float *y,
                             int train, nnl_error *err)
{
    if (!l->built)
        return nnl_fail(err, NNL_ERR_ARG, "%s: forward before build", l->name);
    if (l->busy)
        return nnl_fail(err, NNL_ERR_ARG, "%s: a loss or metric function of its model cannot "
                        "run the model (it is in the middle of a step)", l->name);
    if (batch > l->reserved) {
        nnl_status st = nnl_layer_reserve(l, batch, err);
        if (st != NNL_OK)
            return st;
    }
    l->gen++;
    return l->ops->forward(l, batch, x, y, train, err);
}

nnl_status nnl_layer_backward(nnl_layer *l, size_t batch, const float *x,
                              const float *y, float *dy, float *dx, nnl_error *err)
{
    if (!l->built || batch > l->reserved)
        return nnl_fail(err, NNL_ERR_ARG, "%s: backward without a forward", l->name);
    return l->ops->backward(l, batch, x, y, dy, dx, err);
}

size_t nnl_layer_count_params(const nnl_layer *l, int trainable_only)
{
    size_t n = 0;
    for (int i = 0; i < l->nparams; i++)
        if (!trainable_only || l->params[i].trainable)
            n += l->params[i].n;
    return n;
}

void nnl_layer_act_forward(const nnl_layer *l, size_t rows, size_t cols, const float *z,
                           float *y)
{
    const nnl_kernels *k = nnl_kernels_active();
    if (l->act == NNL_ACT_SOFTMAX)
        k->softmax_rows(rows, cols, z, cols, y, cols);
    else if (l->act != NNL_ACT_LINEAR)
        k->act_fwd(nnl_act_kernel(l->act), l->act_param, rows * cols, z, y);
    else if (y != z)
        memcpy(y, z, rows * cols * sizeof *y);
}

void nnl_layer_act_backward(const nnl_layer *l, size_t rows, size_t cols, const float *z,
                            const float *y, float *dy, float *dz)
{
    const nnl_kernels *k = nnl_kernels_active();
    if (l->act_fused || l->act == NNL_ACT_LINEAR) {
        if (dz != dy)
            memcpy(dz, dy, rows * cols * sizeof *dz);
    } else if (l->act == NNL_ACT_SOFTMAX) {
        k->softmax_bwd_rows(rows, cols, y, dy, dz);
    } else {
        k->act_bwd(nnl_act_kernel(l->act), l->act_param, rows * cols, z, y, dy, dz);
    }
}
