/* Optimizers with Keras's update rules and defaults:
 *   SGD      lr 0.01, momentum 0, nesterov false
 *   Adam     lr 1e-3, beta1 0.9, beta2 0.999, epsilon 1e-7
 *   AdamW    as Adam, weight_decay 0.004 (decoupled: w -= lr * wd * w)
 *   RMSprop  lr 1e-3, rho 0.9, momentum 0, epsilon 1e-7, centered false:
 *            v = rho v + (1-rho) g^2; d = v + epsilon, or when centered
 *            a = rho a + (1-rho) g and d = v - a^2 + epsilon;
 *            inc = lr g / sqrt(d); with momentum: m = momentum m + inc,
 *            w -= m; else w -= inc
 *   Adagrad  lr 1e-3, initial_accumulator_value 0.1, epsilon 1e-7:
 *            a += g^2; w -= lr g / sqrt(a + epsilon)
 * An optimizer keeps one state slot set per parameter array it updates
 * (created on the first step, so it follows the model's parameters).
 *
 * Ownership: nnl_optim_new returns an optimizer owned by the caller (a
 * compiled model owns its own); nnl_optim_free releases it and its slots. */
#ifndef NNL_OPTIM_H
#define NNL_OPTIM_H
#include <stddef.h>
#include "core/status.h"
#include "model/options.h"

typedef enum nnl_optim_kind {
    NNL_OPT_SGD = 0,
    NNL_OPT_ADAM,
    NNL_OPT_ADAMW,
    NNL_OPT_RMSPROP,
    NNL_OPT_ADAGRAD,
    NNL_OPT_COUNT
} nnl_optim_kind;

typedef struct nnl_optim_config {
    int kind;
    double lr;
    double momentum;              /* SGD, RMSprop */
    int nesterov;                 /* SGD */
    double beta1, beta2;          /* Adam, AdamW */
    double epsilon;               /* Adam, AdamW, RMSprop, Adagrad */
    double weight_decay;          /* AdamW */
    double rho;                   /* RMSprop */
    int centered;                 /* RMSprop */
    double initial_accumulator;   /* Adagrad */
} nnl_optim_config;

/* An optimizer by name: its options (names, defaults, ranges, help),
 * declared once here and read by the binding (nn.optimizers.* and
 * compile), model files and help. */
typedef struct nnl_optim_desc {
    const char *name;             /* "sgd": the string compile takes */
    const char *class_name;       /* "SGD": nn.optimizers.SGD */
    const char *help;
    const nnl_option *options;
    size_t noptions;
} nnl_optim_desc;

/* The descriptor of kind, NULL when out of range. */
const nnl_optim_desc *nnl_optim_desc_of(int kind);
/* Name or class -> kind ("sgd" in any case, "SGD"); -1 when unknown. */
int nnl_optim_from_name(const char *name);
const char *nnl_optim_name(int kind);
const char *nnl_optim_names(void);
/* Fills c with Keras's defaults for kind (its options' defaults). */
void nnl_optim_defaults(nnl_optim_config *c, int kind);
/* c from the values of kind's options (in the order of its list), and
 * back. */
void nnl_optim_from_values(int kind, const nnl_value *v, nnl_optim_config *c);
void nnl_optim_to_values(const nnl_optim_config *c, nnl_value *v);

typedef struct nnl_optim_slot {
    size_t n;
    float *m, *v;                 /* owned; NULL when the rule needs none */
    float *a;                     /* owned: centered RMSprop's mean gradient, or NULL */
} nnl_optim_slot;

typedef struct nnl_optim {
    nnl_optim_config cfg;
    long iterations;              /* steps taken (Adam's t) */
    size_t nslots;
    nnl_optim_slot *slots;        /* owned */
} nnl_optim;

/* Checks the values (lr > 0, 0 <= momentum < 1, 0 <= betas < 1, ...):
 * NNL_ERR_ARG naming the option. */
nnl_status nnl_optim_check(const nnl_optim_config *c, nnl_error *err);
nnl_optim *nnl_optim_new(const nnl_optim_config *c, nnl_error *err);
void nnl_optim_free(nnl_optim *o);
/* Allocates the state for nparams arrays of sizes n[i] (zeroed, or the
 * initial accumulator value); called once before training. */
nnl_status nnl_optim_prepare(nnl_optim *o, size_t nparams, const size_t *n,
                             nnl_error *err);
/* Starts a step (iterations += 1). */
void nnl_optim_begin_step(nnl_optim *o);
/* Updates array i (w of n floats with gradient g) by the current step. */
void nnl_optim_update(nnl_optim *o, size_t i, float *w, const float *g, size_t n);

#endif
