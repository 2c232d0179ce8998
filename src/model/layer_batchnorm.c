/* BatchNormalization over the last dimension (the features), as Keras:
 * training normalises with the batch mean and (biased) variance and moves
 * the running statistics, moving = moving * momentum + batch * (1 -
 * momentum); inference normalises with the running statistics.
 * y = gamma * (x - mean) / sqrt(var + epsilon) + beta. */
#include "model/layer.h"

#include <math.h>
#include <string.h>
#include "core/alloc.h"

typedef struct bn_state {
    nnl_bn_opts opts;
    int gamma, beta, mean, var;  /* parameter indices, -1 when absent */
    float *xhat;                 /* owned: normalised input of the last training forward */
    float *invstd;               /* owned: per feature, of the last training forward */
    double *acc;                 /* owned: 2 x features accumulator */
} bn_state;

void nnl_bn_opts_default(nnl_bn_opts *o)
{
    o->momentum = 0.99f;
    o->epsilon = 1e-3f;
    o->center = 1;
    o->scale = 1;
}

static size_t features(const nnl_layer *l)
{
    return l->in_shape.d[l->in_shape.ndim - 1];
}

static nnl_status bn_build(nnl_layer *l, nnl_rng *rng, nnl_error *err)
{
    bn_state *s = l->state;
    size_t f = features(l);
    nnl_shape sh = {1, {f, 0, 0, 0}};
    const char *names[4] = {"gamma", "beta", "moving_mean", "moving_variance"};
    int want[4] = {s->opts.scale, s->opts.center, 1, 1};
    int *idx[4] = {&s->gamma, &s->beta, &s->mean, &s->var};
    l->nparams = 0;
    for (int i = 0; i < 4; i++) {
        *idx[i] = -1;
        if (!want[i])
            continue;
        nnl_status st = nnl_param_alloc(&l->params[l->nparams], names[i], &sh, i < 2, err);
        if (st != NNL_OK)
            return st;
        *idx[i] = l->nparams++;
        float v = (i == 0 || i == 3) ? 1.0f : 0.0f;
        for (size_t j = 0; j < f; j++)
            l->params[*idx[i]].w[j] = v;
    }
    nnl_free(s->invstd); /* left by a build that failed before */
    nnl_free(s->acc);
    s->invstd = nnl_malloc(f * sizeof *s->invstd);
    s->acc = nnl_malloc(2 * f * sizeof *s->acc);
    if (!s->invstd || !s->acc)
        return nnl_fail(err, NNL_ERR_NOMEM, "%s: out of memory", l->name);
    l->out_shape = l->in_shape;
    return NNL_OK;
}

static nnl_status bn_reserve(nnl_layer *l, size_t batch, nnl_error *err)
{
    bn_state *s = l->state;
    float *x = nnl_malloc(batch * nnl_shape_numel(&l->in_shape) * sizeof *x);
    if (!x)
        return nnl_fail(err, NNL_ERR_NOMEM, "%s: out of memory for a batch of %zu",
                        l->name, batch);
    nnl_free(s->xhat);
    s->xhat = x;
    return NNL_OK;
}

static nnl_status bn_forward(nnl_layer *l, size_t batch, const float *x, float *y,
                             int train, nnl_error *err)
{
    bn_state *s = l->state;
    size_t f = features(l), rows = batch * nnl_shape_numel(&l->in_shape) / f;
    const float *gamma = s->gamma >= 0 ? l->params[s->gamma].w : NULL;
    const float *beta = s->beta >= 0 ? l->params[s->beta].w : NULL;
    float *mm = l->params[s->mean].w, *mv = l->params[s->var].w;
    float eps = s->opts.epsilon;
    if (!train || rows == 0) {
        for (size_t r = 0; r < rows; r++)
            for (size_t j = 0; j < f; j++) {
                float v = (x[r * f + j] - mm[j]) / sqrtf(mv[j] + eps);
                y[r * f + j] = (gamma ? gamma[j] * v : v) + (beta ? beta[j] : 0.0f);
            }
        return NNL_OK;
    }
    double *mean = s->acc, *var = s->acc + f;
    memset(s->acc, 0, 2 * f * sizeof *s->acc);
    for (size_t r = 0; r < rows; r++)
        for (size_t j = 0; j < f; j++)
            mean[j] += x[r * f + j];
    for (size_t j = 0; j < f; j++)
        mean[j] /= (double)rows;
    for (size_t r = 0; r < rows; r++)
        for (size_t j = 0; j < f; j++) {
            double d = x[r * f + j] - mean[j];
            var[j] += d * d;
        }
    float mom = s->opts.momentum;
    for (size_t j = 0; j < f; j++) {
        var[j] /= (double)rows;
        s->invstd[j] = (float)(1.0 / sqrt(var[j] + eps));
        mm[j] = mm[j] * mom + (float)mean[j] * (1.0f - mom);
        mv[j] = mv[j] * mom + (float)var[j] * (1.0f - mom);
    }
    for (size_t r = 0; r < rows; r++)
        for (size_t j = 0; j < f; j++) {
            float v = (float)(x[r * f + j] - mean[j]) * s->invstd[j];
            s->xhat[r * f + j] = v;
            y[r * f + j] = (gamma ? gamma[j] * v : v) + (beta ? beta[j] : 0.0f);
        }
    return NNL_OK;
}

/* With g = dy * gamma: dx = invstd / N * (N g - sum(g) - xhat sum(g xhat)). */
static nnl_status bn_backward(nnl_layer *l, size_t batch, const float *x,
                              const float *y, float *dy, float *dx, nnl_error *err)
{
    bn_state *s = l->state;
    size_t f = features(l), rows = batch * nnl_shape_numel(&l->in_shape) / f;
    const float *gamma = s->gamma >= 0 ? l->params[s->gamma].w : NULL;
    double *sum_dy = s->acc, *sum_dyx = s->acc + f;
    memset(s->acc, 0, 2 * f * sizeof *s->acc);
    for (size_t r = 0; r < rows; r++)
        for (size_t j = 0; j < f; j++) {
            sum_dy[j] += dy[r * f + j];
            sum_dyx[j] += (double)dy[r * f + j] * s->xhat[r * f + j];
        }
    if (s->gamma >= 0)
        for (size_t j = 0; j < f; j++)
            l->params[s->gamma].g[j] = (float)sum_dyx[j];
    if (s->beta >= 0)
        for (size_t j = 0; j < f; j++)
            l->params[s->beta].g[j] = (float)sum_dy[j];
    if (!dx || rows == 0)
        return NNL_OK;
    double n = (double)rows;
    for (size_t r = 0; r < rows; r++)
        for (size_t j = 0; j < f; j++) {
            double gj = gamma ? gamma[j] : 1.0;
            double v = n * dy[r * f + j] - sum_dy[j] - s->xhat[r * f + j] * sum_dyx[j];
            dx[r * f + j] = (float)(gj * s->invstd[j] / n * v);
        }
    return NNL_OK;
}

static void bn_destroy(nnl_layer *l)
{
    bn_state *s = l->state;
    if (s) {
        nnl_free(s->xhat);
        nnl_free(s->invstd);
        nnl_free(s->acc);
        s->xhat = s->invstd = NULL;
        s->acc = NULL;
    }
}

static const nnl_layer_ops batchnorm_ops = {
    NNL_LAYER_BATCHNORM, "BatchNormalization", bn_build, bn_reserve, bn_forward,
    bn_backward, bn_destroy,
};

nnl_layer *nnl_batchnorm_new(const nnl_bn_opts *o, nnl_error *err)
{
    nnl_bn_opts def;
    if (!o) {
        nnl_bn_opts_default(&def);
        o = &def;
    }
    if (!(o->momentum >= 0.0f && o->momentum <= 1.0f)) {
        nnl_fail(err, NNL_ERR_ARG, "nn.BatchNormalization: momentum must be in "
                 "[0, 1], got %g", (double)o->momentum);
        return NULL;
    }
    if (!(o->epsilon > 0.0f)) {
        nnl_fail(err, NNL_ERR_ARG, "nn.BatchNormalization: epsilon must be > 0, "
                 "got %g", (double)o->epsilon);
        return NULL;
    }
    nnl_layer *l = nnl_layer_alloc(&batchnorm_ops, sizeof(bn_state), err);
    if (!l)
        return NULL;
    ((bn_state *)l->state)->opts = *o;
    return l;
}

const nnl_bn_opts *nnl_bn_options(const nnl_layer *l)
{
    return l->ops->kind == NNL_LAYER_BATCHNORM ? &((const bn_state *)l->state)->opts : NULL;
}
