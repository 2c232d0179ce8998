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

/* Weights in Keras's order: gamma (scale), beta (center), then the
 * running statistics (not trainable). */
static nnl_status bn_plan(const nnl_layer *l, const nnl_shape *in, nnl_shape *out,
                          nnl_weight_spec *w, int *nw, nnl_error *err)
{
    const bn_state *s = l->state;
    nnl_shape sh = {1, {in->d[in->ndim - 1], 0, 0, 0}};
    *out = *in;
    if (s->opts.scale)
        w[(*nw)++] = (nnl_weight_spec){"gamma", sh, 1, 0};
    if (s->opts.center)
        w[(*nw)++] = (nnl_weight_spec){"beta", sh, 1, 0};
    w[(*nw)++] = (nnl_weight_spec){"moving_mean", sh, 0, 0};
    w[(*nw)++] = (nnl_weight_spec){"moving_variance", sh, 0, 0};
    return NNL_OK;
}

static void bn_fill(nnl_layer *l, nnl_rng *rng)
{
    bn_state *s = l->state;
    size_t f = features(l);
    int k = 0;
    s->gamma = s->opts.scale ? k++ : -1;
    s->beta = s->opts.center ? k++ : -1;
    s->mean = k++;
    s->var = k++;
    for (size_t j = 0; j < f; j++) {
        if (s->gamma >= 0)
            l->params[s->gamma].w[j] = 1.0f;
        l->params[s->var].w[j] = 1.0f;
    }
}

static nnl_status bn_reserve(nnl_layer *l, size_t batch, nnl_error *err)
{
    bn_state *s = l->state;
    size_t f = features(l);
    if (!s->invstd) {
        s->invstd = nnl_malloc(f * sizeof *s->invstd);
        s->acc = nnl_malloc(2 * f * sizeof *s->acc);
        if (!s->invstd || !s->acc) {
            nnl_free(s->invstd);
            nnl_free(s->acc);
            s->invstd = NULL;
            s->acc = NULL;
            return nnl_fail(err, NNL_ERR_NOMEM, "%s: out of memory", l->name);
        }
    }
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

enum { O_MOMENTUM, O_EPSILON, O_CENTER, O_SCALE, O_COUNT };

static const nnl_option bn_options[O_COUNT] = {
    [O_MOMENTUM] = {.key = "momentum", .type = NNL_OPTION_NUM, .def = 0.99, .min = 0,
                    .max = 1, .help = "moving = moving * momentum + batch * (1 - momentum)"},
    [O_EPSILON] = {.key = "epsilon", .type = NNL_OPTION_NUM, .def = 1e-3, .min = 0, .open_min = 1,
                   .max = 1e30, .help = "added to the variance before its square root"},
    [O_CENTER] = {.key = "center", .type = NNL_OPTION_BOOL, .def = 1,
                  .help = "learn an offset beta"},
    [O_SCALE] = {.key = "scale", .type = NNL_OPTION_BOOL, .def = 1,
                 .help = "learn a scale gamma"},
};

static nnl_status bn_init(nnl_layer *l, nnl_error *err)
{
    bn_state *s = l->state;
    s->opts.momentum = (float)l->config[O_MOMENTUM].num;
    s->opts.epsilon = (float)l->config[O_EPSILON].num;
    s->opts.center = l->config[O_CENTER].num != 0.0;
    s->opts.scale = l->config[O_SCALE].num != 0.0;
    return NNL_OK;
}

const nnl_layer_ops nnl_batchnorm_kind = {
    .type = "BatchNormalization",
    .example = "local bn = nn.BatchNormalization()\n"
                "local y = bn(nn.rand(8, 3) * 10, {training = true})\n"
                "print(y:mean(1), y:std(1)) -- about 0 and 1 per feature",
    .help = "Normalizes each feature (the last dimension) over the batch while training, "
            "with running statistics in inference; then gamma * x + beta.",
    .options = bn_options,
    .noptions = O_COUNT,
    .state_size = sizeof(bn_state),
    .init = bn_init,
    .plan = bn_plan,
    .fill = bn_fill,
    .reserve = bn_reserve,
    .forward = bn_forward,
    .backward = bn_backward,
    .destroy = bn_destroy,
    .draw = NNL_DRAW_NONE,
    .train_differs = 1,
};

nnl_layer *nnl_batchnorm_new(const nnl_bn_opts *o, nnl_error *err)
{
    nnl_bn_opts def;
    if (!o) {
        nnl_bn_opts_default(&def);
        o = &def;
    }
    nnl_value v[O_COUNT];
    nnl_values_default(bn_options, O_COUNT, v);
    v[O_MOMENTUM].num = nnl_value_from_float(o->momentum);
    v[O_EPSILON].num = nnl_value_from_float(o->epsilon);
    v[O_CENTER].num = o->center != 0;
    v[O_SCALE].num = o->scale != 0;
    return nnl_layer_create(&nnl_batchnorm_kind, v, err);
}
