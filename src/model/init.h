/* Weight initializers, as Keras defines them, drawing from core/rng.h so
 * that nn.seed makes a model's initial weights reproducible. */
#ifndef NNL_INIT_H
#define NNL_INIT_H
#include <stddef.h>
#include "core/rng.h"
#include "model/options.h"

typedef enum nnl_init {
    NNL_INIT_GLOROT_UNIFORM = 0,
    NNL_INIT_GLOROT_NORMAL,
    NNL_INIT_HE_UNIFORM,
    NNL_INIT_HE_NORMAL,
    NNL_INIT_LECUN_NORMAL,
    NNL_INIT_ZEROS,
    NNL_INIT_ONES,
    NNL_INIT_RANDOM_NORMAL,   /* mean 0, stddev 0.05 */
    NNL_INIT_RANDOM_UNIFORM,  /* [-0.05, 0.05) */
    NNL_INIT_COUNT
} nnl_init;

/* Name -> enum, -1 when unknown. */
int nnl_init_from_name(const char *name);
const char *nnl_init_name(int init);
/* One line describing it, for help. */
const char *nnl_init_help(int init);
/* "a, b, ..." list of all names (for error messages). */
const char *nnl_init_names(void);
/* The names as the choice of an option ("kernel_initializer"). */
extern const nnl_choice nnl_init_choice;

/* Fills w[0..n) for a weight with the given fan-in and fan-out. The
 * *_normal variance-scaling initializers use a normal truncated at two
 * standard deviations, rescaled so the variance is the intended one, as
 * Keras does. */
void nnl_init_fill(int init, float *w, size_t n, size_t fan_in, size_t fan_out,
                   nnl_rng *rng);

#endif
