/* Optimizers: see optim.h. SGD, momentum and Adam use the kernel table's
 * steps (the same rules, vectorised); RMSprop and Adagrad are plain loops
 * here because Keras puts epsilon inside the square root for them, which
 * the kernel table's form does not. */
#include "model/optim.h"

#include <math.h>
#include <string.h>
#include <strings.h>
#include "core/alloc.h"
#include "simd/kernels.h"

static const char *const optim_names[NNL_OPT_COUNT] = {
    "sgd", "adam", "adamw", "rmsprop", "adagrad",
};

int nnl_optim_from_name(const char *name)
{
    for (int i = 0; i < NNL_OPT_COUNT; i++)
        if (strcasecmp(name, optim_names[i]) == 0)
            return i;
    return -1;
}

const char *nnl_optim_name(int kind)
{
    return kind >= 0 && kind < NNL_OPT_COUNT ? optim_names[kind] : "?";
}

const char *nnl_optim_names(void)
{
    return "sgd, adam, adamw, rmsprop, adagrad";
}

void nnl_optim_defaults(nnl_optim_config *c, int kind)
{
    memset(c, 0, sizeof *c);
    c->kind = kind;
    c->lr = kind == NNL_OPT_SGD ? 0.01 : 0.001;
    c->beta1 = 0.9;
    c->beta2 = 0.999;
    c->epsilon = 1e-7;
    c->weight_decay = kind == NNL_OPT_ADAMW ? 0.004 : 0.0;
    c->rho = 0.9;
    c->initial_accumulator = 0.1;
}

nnl_status nnl_optim_check(const nnl_optim_config *c, nnl_error *err)
{
    const char *who = nnl_optim_name(c->kind);
    if (c->kind < 0 || c->kind >= NNL_OPT_COUNT)
        return nnl_fail(err, NNL_ERR_ARG, "optimizer: unknown kind (valid: %s)",
                        nnl_optim_names());
    if (!(c->lr > 0.0) || !isfinite(c->lr))
        return nnl_fail(err, NNL_ERR_ARG, "%s: lr must be > 0, got %g", who, c->lr);
    if (!(c->momentum >= 0.0 && c->momentum < 1.0))
        return nnl_fail(err, NNL_ERR_ARG, "%s: momentum must be in [0, 1), got %g",
                        who, c->momentum);
    if (!(c->beta1 >= 0.0 && c->beta1 < 1.0))
        return nnl_fail(err, NNL_ERR_ARG, "%s: beta1 must be in [0, 1), got %g",
                        who, c->beta1);
    if (!(c->beta2 >= 0.0 && c->beta2 < 1.0))
        return nnl_fail(err, NNL_ERR_ARG, "%s: beta2 must be in [0, 1), got %g",
                        who, c->beta2);
    if (!(c->epsilon >= 0.0))
        return nnl_fail(err, NNL_ERR_ARG, "%s: epsilon must be >= 0, got %g",
                        who, c->epsilon);
    if (!(c->weight_decay >= 0.0))
        return nnl_fail(err, NNL_ERR_ARG, "%s: weight_decay must be >= 0, got %g",
                        who, c->weight_decay);
    if (!(c->rho >= 0.0 && c->rho < 1.0))
        return nnl_fail(err, NNL_ERR_ARG, "%s: rho must be in [0, 1), got %g",
                        who, c->rho);
    if (!(c->initial_accumulator >= 0.0))
        return nnl_fail(err, NNL_ERR_ARG, "%s: initial_accumulator_value must be "
                        ">= 0, got %g", who, c->initial_accumulator);
    return NNL_OK;
}

nnl_optim *nnl_optim_new(const nnl_optim_config *c, nnl_error *err)
{
    if (nnl_optim_check(c, err) != NNL_OK)
        return NULL;
    nnl_optim *o = nnl_calloc(1, sizeof *o);
    if (!o) {
        nnl_fail(err, NNL_ERR_NOMEM, "optimizer: out of memory");
        return NULL;
    }
    o->cfg = *c;
    return o;
}

static void free_slots(nnl_optim *o)
{
    for (size_t i = 0; i < o->nslots; i++) {
        nnl_free(o->slots[i].m);
        nnl_free(o->slots[i].v);
        nnl_free(o->slots[i].a);
    }
    nnl_free(o->slots);
    o->slots = NULL;
    o->nslots = 0;
}

void nnl_optim_free(nnl_optim *o)
{
    if (!o)
        return;
    free_slots(o);
    nnl_free(o);
}

nnl_status nnl_optim_prepare(nnl_optim *o, size_t nparams, const size_t *n,
                             nnl_error *err)
{
    if (o->slots && o->nslots == nparams) {
        size_t i = 0;
        while (i < nparams && o->slots[i].n == n[i])
            i++;
        if (i == nparams)
            return NNL_OK; /* same parameters: keep the state */
    }
    free_slots(o);
    o->iterations = 0;
    o->slots = nnl_calloc(nparams ? nparams : 1, sizeof *o->slots);
    if (!o->slots)
        return nnl_fail(err, NNL_ERR_NOMEM, "optimizer: out of memory");
    o->nslots = nparams;
    int kind = o->cfg.kind;
    int need_m = ((kind == NNL_OPT_SGD || kind == NNL_OPT_RMSPROP) &&
                  o->cfg.momentum > 0.0) ||
                 kind == NNL_OPT_ADAM || kind == NNL_OPT_ADAMW;
    int need_a = kind == NNL_OPT_RMSPROP && o->cfg.centered;
    int need_v = kind == NNL_OPT_ADAM || kind == NNL_OPT_ADAMW ||
                 kind == NNL_OPT_RMSPROP || kind == NNL_OPT_ADAGRAD;
    for (size_t i = 0; i < nparams; i++) {
        nnl_optim_slot *s = &o->slots[i];
        s->n = n[i];
        if (need_m && !(s->m = nnl_calloc(n[i] ? n[i] : 1, sizeof(float))))
            goto nomem;
        if (need_v && !(s->v = nnl_calloc(n[i] ? n[i] : 1, sizeof(float))))
            goto nomem;
        if (need_a && !(s->a = nnl_calloc(n[i] ? n[i] : 1, sizeof(float))))
            goto nomem;
        if (kind == NNL_OPT_ADAGRAD)
            for (size_t j = 0; j < n[i]; j++)
                s->v[j] = (float)o->cfg.initial_accumulator;
    }
    return NNL_OK;
nomem:
    free_slots(o);
    return nnl_fail(err, NNL_ERR_NOMEM, "optimizer: out of memory for its state");
}

void nnl_optim_begin_step(nnl_optim *o)
{
    o->iterations++;
}

void nnl_optim_update(nnl_optim *o, size_t i, float *w, const float *g, size_t n)
{
    const nnl_kernels *k = nnl_kernels_active();
    const nnl_optim_config *c = &o->cfg;
    nnl_optim_slot *s = &o->slots[i];
    float lr = (float)c->lr, eps = (float)c->epsilon;
    switch (c->kind) {
    case NNL_OPT_SGD:
        if (c->momentum > 0.0)
            k->opt_momentum(n, w, g, s->m, lr, (float)c->momentum, c->nesterov);
        else
            k->opt_sgd(n, w, g, lr);
        break;
    case NNL_OPT_ADAM:
    case NNL_OPT_ADAMW: {
        double t = (double)o->iterations;
        nnl_adam_params p;
        p.lr_t = (float)(c->lr * sqrt(1.0 - pow(c->beta2, t)) / (1.0 - pow(c->beta1, t)));
        p.beta1 = (float)c->beta1;
        p.beta2 = (float)c->beta2;
        p.epsilon = eps;
        p.decay = c->kind == NNL_OPT_ADAMW ? (float)(c->lr * c->weight_decay) : 0.0f;
        k->opt_adam(n, w, g, s->m, s->v, &p);
        break;
    }
    case NNL_OPT_RMSPROP: {
        float rho = (float)c->rho, mom = (float)c->momentum;
        for (size_t j = 0; j < n; j++) {
            s->v[j] = rho * s->v[j] + (1.0f - rho) * g[j] * g[j];
            float d = s->v[j] + eps;
            if (s->a) {
                s->a[j] = rho * s->a[j] + (1.0f - rho) * g[j];
                d -= s->a[j] * s->a[j];
            }
            float inc = lr * g[j] / sqrtf(d);
            if (s->m) {
                s->m[j] = mom * s->m[j] + inc;
                w[j] -= s->m[j];
            } else {
                w[j] -= inc;
            }
        }
        break;
    }
    case NNL_OPT_ADAGRAD:
        for (size_t j = 0; j < n; j++) {
            s->v[j] += g[j] * g[j];
            w[j] -= lr * g[j] / sqrtf(s->v[j] + eps);
        }
        break;
    default:
        break;
    }
}
