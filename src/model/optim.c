/* Optimizers: see optim.h. SGD, momentum and Adam use the kernel table's
 * steps (the same rules, vectorised); RMSprop and Adagrad are plain loops
 * here because Keras puts epsilon inside the square root for them, which
 * the kernel table's form does not. */
#include "model/optim.h"

#include <math.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>
#include "core/alloc.h"
#include "core/threads.h"
#include "simd/kernels.h"

/* The options of the rules, each once: what every optimizer's list below
 * takes from (Keras's names; the snake_case spellings as aliases). */
#define LR(d) {.key = "lr", .type = NNL_OPTION_NUM, .def = d, .min = 0, .open_min = 1, \
               .max = 1e30, .alias = "learning_rate", .help = "learning rate"}
#define MOMENTUM {.key = "momentum", .type = NNL_OPTION_NUM, .def = 0, .min = 0, .max = 1, \
                  .open_max = 1, .help = "momentum: a running sum of past steps"}
#define EPSILON {.key = "epsilon", .type = NNL_OPTION_NUM, .def = 1e-7, .min = 0, \
                 .max = 1e30, .help = "added for numerical stability"}
#define BETA1 {.key = "beta1", .type = NNL_OPTION_NUM, .def = 0.9, .min = 0, .max = 1, \
               .open_max = 1, .alias = "beta_1", .help = "decay of the mean of gradients"}
#define BETA2 {.key = "beta2", .type = NNL_OPTION_NUM, .def = 0.999, .min = 0, .max = 1, \
               .open_max = 1, .alias = "beta_2", .help = "decay of the mean of squared gradients"}

/* Where each option goes in nnl_optim_config. */
typedef struct field {
    const char *key;
    size_t offset;
    int is_int;
} field;

static const field fields[] = {
    {"lr", offsetof(nnl_optim_config, lr), 0},
    {"momentum", offsetof(nnl_optim_config, momentum), 0},
    {"nesterov", offsetof(nnl_optim_config, nesterov), 1},
    {"beta1", offsetof(nnl_optim_config, beta1), 0},
    {"beta2", offsetof(nnl_optim_config, beta2), 0},
    {"epsilon", offsetof(nnl_optim_config, epsilon), 0},
    {"weight_decay", offsetof(nnl_optim_config, weight_decay), 0},
    {"rho", offsetof(nnl_optim_config, rho), 0},
    {"centered", offsetof(nnl_optim_config, centered), 1},
    {"initial_accumulator_value", offsetof(nnl_optim_config, initial_accumulator), 0},
};

static const nnl_option sgd_options[] = {
    LR(0.01), MOMENTUM,
    {.key = "nesterov", .type = NNL_OPTION_BOOL, .def = 0, .help = "Nesterov momentum"},
};
static const nnl_option adam_options[] = {LR(1e-3), BETA1, BETA2, EPSILON};
static const nnl_option adamw_options[] = {
    LR(1e-3), BETA1, BETA2, EPSILON,
    {.key = "weight_decay", .type = NNL_OPTION_NUM, .def = 0.004, .min = 0, .max = 1e30,
     .help = "decoupled weight decay: w -= lr * weight_decay * w"},
};
static const nnl_option rmsprop_options[] = {
    LR(1e-3),
    {.key = "rho", .type = NNL_OPTION_NUM, .def = 0.9, .min = 0, .max = 1, .open_max = 1,
     .help = "decay of the mean of squared gradients"},
    MOMENTUM, EPSILON,
    {.key = "centered", .type = NNL_OPTION_BOOL, .def = 0,
     .help = "divide by the variance of gradients instead of their second moment"},
};
static const nnl_option adagrad_options[] = {
    LR(1e-3),
    {.key = "initial_accumulator_value", .type = NNL_OPTION_NUM, .def = 0.1, .min = 0,
     .max = 1e30, .help = "start of the sum of squared gradients"},
    EPSILON,
};

#define OPTS(a) a, sizeof a / sizeof a[0]
static const nnl_optim_desc descs[NNL_OPT_COUNT] = {
    [NNL_OPT_SGD] = {"sgd", "SGD", "Stochastic gradient descent, with momentum and Nesterov "
                     "momentum.", OPTS(sgd_options)},
    [NNL_OPT_ADAM] = {"adam", "Adam", "Adam: steps by running means of gradients and of "
                      "their squares.", OPTS(adam_options)},
    [NNL_OPT_ADAMW] = {"adamw", "AdamW", "Adam with decoupled weight decay.",
                       OPTS(adamw_options)},
    [NNL_OPT_RMSPROP] = {"rmsprop", "RMSprop", "RMSprop: steps divided by a running root "
                         "mean square of gradients.", OPTS(rmsprop_options)},
    [NNL_OPT_ADAGRAD] = {"adagrad", "Adagrad", "Adagrad: steps divided by the root of the "
                         "sum of squared gradients.", OPTS(adagrad_options)},
};

const nnl_optim_desc *nnl_optim_desc_of(int kind)
{
    return kind >= 0 && kind < NNL_OPT_COUNT ? &descs[kind] : NULL;
}

int nnl_optim_from_name(const char *name)
{
    for (int i = 0; name && i < NNL_OPT_COUNT; i++)
        if (strcasecmp(name, descs[i].name) == 0 || strcmp(name, descs[i].class_name) == 0)
            return i;
    return -1;
}

const char *nnl_optim_name(int kind)
{
    return kind >= 0 && kind < NNL_OPT_COUNT ? descs[kind].name : "?";
}

const char *nnl_optim_names(void)
{
    return "sgd, adam, adamw, rmsprop, adagrad";
}

static const field *field_of(const char *key)
{
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        if (strcmp(fields[i].key, key) == 0)
            return &fields[i];
    return NULL;
}

void nnl_optim_from_values(int kind, const nnl_value *v, nnl_optim_config *c)
{
    nnl_optim_defaults(c, kind);
    const nnl_optim_desc *d = &descs[kind];
    for (size_t i = 0; i < d->noptions; i++) {
        const field *f = field_of(d->options[i].key);
        char *p = (char *)c + f->offset;
        if (f->is_int)
            *(int *)p = v[i].num != 0.0;
        else
            *(double *)p = v[i].num;
    }
}

void nnl_optim_to_values(const nnl_optim_config *c, nnl_value *v)
{
    const nnl_optim_desc *d = &descs[c->kind];
    nnl_values_default(d->options, d->noptions, v);
    for (size_t i = 0; i < d->noptions; i++) {
        const field *f = field_of(d->options[i].key);
        const char *p = (const char *)c + f->offset;
        v[i].num = f->is_int ? (double)*(const int *)p : *(const double *)p;
    }
}

void nnl_optim_defaults(nnl_optim_config *c, int kind)
{
    memset(c, 0, sizeof *c);
    c->kind = kind;
    if (kind < 0 || kind >= NNL_OPT_COUNT)
        return;
    /* Every field from its option's default, where the rule has it; the
     * others keep values that change nothing. */
    c->beta1 = 0.9;
    c->beta2 = 0.999;
    c->epsilon = 1e-7;
    c->rho = 0.9;
    c->initial_accumulator = 0.1;
    const nnl_optim_desc *d = &descs[kind];
    for (size_t i = 0; i < d->noptions; i++) {
        const field *f = field_of(d->options[i].key);
        char *p = (char *)c + f->offset;
        if (f->is_int)
            *(int *)p = d->options[i].def != 0.0;
        else
            *(double *)p = d->options[i].def;
    }
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

/* One step of parameter slot i over elements [j0, j1). */
static void update_range(const nnl_optim *o, size_t i, float *w, const float *g, size_t j0,
                         size_t j1, const nnl_adam_params *ap)
{
    const nnl_kernels *k = nnl_kernels_active();
    const nnl_optim_config *c = &o->cfg;
    const nnl_optim_slot *s = &o->slots[i];
    float lr = (float)c->lr, eps = (float)c->epsilon;
    size_t n = j1 - j0;
    w += j0, g += j0;
    float *m = s->m ? s->m + j0 : NULL, *v = s->v ? s->v + j0 : NULL;
    float *a = s->a ? s->a + j0 : NULL;
    switch (c->kind) {
    case NNL_OPT_SGD:
        if (c->momentum > 0.0)
            k->opt_momentum(n, w, g, m, lr, (float)c->momentum, c->nesterov);
        else
            k->opt_sgd(n, w, g, lr);
        break;
    case NNL_OPT_ADAM:
    case NNL_OPT_ADAMW:
        k->opt_adam(n, w, g, m, v, ap);
        break;
    case NNL_OPT_RMSPROP: {
        float rho = (float)c->rho, mom = (float)c->momentum;
        if (!a && !m) {
            k->opt_rmsprop(n, w, g, v, lr, rho, eps);
            break;
        }
        /* Centered or with momentum: Keras's extra state, in plain C. */
        for (size_t j = 0; j < n; j++) {
            v[j] = rho * v[j] + (1.0f - rho) * g[j] * g[j];
            float d = v[j] + eps;
            if (a) {
                a[j] = rho * a[j] + (1.0f - rho) * g[j];
                d -= a[j] * a[j];
            }
            float inc = lr * g[j] / sqrtf(d);
            if (m) {
                m[j] = mom * m[j] + inc;
                w[j] -= m[j];
            } else {
                w[j] -= inc;
            }
        }
        break;
    }
    case NNL_OPT_ADAGRAD:
        k->opt_adagrad(n, w, g, v, lr, eps);
        break;
    default:
        break;
    }
}

/* Slots at least this large are updated by the thread pool, in chunks of
 * whole cache lines: the gradient of a large layer was computed by all
 * threads, and one thread updating it read the others' caches (Adam on
 * 784x256 took 2.7x longer with 2 threads than with 1). Element-wise, so
 * the bits do not depend on the split. */
#define OPTIM_PARALLEL_MIN ((size_t)1 << 15)
#define OPTIM_CHUNK_ALIGN 16

typedef struct update_job {
    const nnl_optim *o;
    size_t slot, n, chunk;
    float *w;
    const float *g;
    const nnl_adam_params *ap;
} update_job;

static void update_task(void *ctx, int t)
{
    const update_job *u = ctx;
    size_t j0 = (size_t)t * u->chunk, j1 = j0 + u->chunk < u->n ? j0 + u->chunk : u->n;
    if (j0 < j1)
        update_range(u->o, u->slot, u->w, u->g, j0, j1, u->ap);
}

void nnl_optim_update(nnl_optim *o, size_t i, float *w, const float *g, size_t n)
{
    const nnl_optim_config *c = &o->cfg;
    nnl_adam_params p = {0};
    if (c->kind == NNL_OPT_ADAM || c->kind == NNL_OPT_ADAMW) {
        double t = (double)o->iterations;
        p.lr_t = (float)(c->lr * sqrt(1.0 - pow(c->beta2, t)) / (1.0 - pow(c->beta1, t)));
        p.beta1 = (float)c->beta1;
        p.beta2 = (float)c->beta2;
        p.epsilon = (float)c->epsilon;
        p.decay = c->kind == NNL_OPT_ADAMW ? (float)(c->lr * c->weight_decay) : 0.0f;
    }
    int nt = nnl_threads_get();
    if (n < OPTIM_PARALLEL_MIN || nt < 2) {
        update_range(o, i, w, g, 0, n, &p);
        return;
    }
    size_t chunk = (n + (size_t)nt - 1) / (size_t)nt;
    chunk = (chunk + OPTIM_CHUNK_ALIGN - 1) / OPTIM_CHUNK_ALIGN * OPTIM_CHUNK_ALIGN;
    update_job u = {o, i, n, chunk, w, g, &p};
    nnl_parallel_for((int)((n + chunk - 1) / chunk), update_task, &u);
}
