/* The activations by name: one table (activation.c) that the layers, the
 * binding (option checks, t:act), model files and help read. Each entry
 * names the element-wise kernel of the SIMD table that computes it. */
#ifndef NNL_ACTIVATION_H
#define NNL_ACTIVATION_H
#include <stddef.h>
#include "model/options.h"

typedef struct nnl_activation {
    const char *name;           /* Keras's name */
    const char *alias;          /* another accepted name ("silu"), or NULL */
    int kernel;                 /* the nnl_act of simd/kernels.h */
    float param;                /* default parameter: leaky_relu's slope, elu's alpha */
    const char *param_name;     /* Keras's name of it, or NULL when it has none */
    const char *formula;        /* for help: "max(0, x)" */
} nnl_activation;

/* The table; *n receives its length. Entry i computes kernel i. */
const nnl_activation *nnl_activations(size_t *n);
/* Index of a name or alias, -1 when unknown. */
int nnl_activation_find(const char *name);
/* The name of index i, NULL when out of range. */
const char *nnl_activation_name(int i);
/* "linear, relu, ..." */
const char *nnl_activation_names(void);
/* The default parameter of index i (0 for an unknown one). */
float nnl_activation_param(int i);

/* The table as the choice of an option ("activation"). */
extern const nnl_choice nnl_activation_choice;

#endif
