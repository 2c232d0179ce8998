/* The activations by name: one table (activation.c) that the layers, the
 * binding (option checks, t:act), model files and help read, and their
 * ids (nnl_act, the index of an entry). Each entry names the element-wise
 * kernel op of the SIMD table (simd/kernels.h) that computes it. */
#ifndef NNL_ACTIVATION_H
#define NNL_ACTIVATION_H
#include <stddef.h>
#include "model/options.h"
#include "simd/kernels.h"

/* Activations of API.md, in the order of the table. Each id is the kernel
 * op that computes it, so nnl_act_kernel is free (a test checks the
 * table against it). */
typedef enum nnl_act {
    NNL_ACT_LINEAR = NNL_KACT_LINEAR,
    NNL_ACT_RELU = NNL_KACT_RELU,
    NNL_ACT_LEAKY_RELU = NNL_KACT_LEAKY_RELU,
    NNL_ACT_ELU = NNL_KACT_ELU,
    NNL_ACT_SELU = NNL_KACT_SELU,
    NNL_ACT_GELU = NNL_KACT_GELU,
    NNL_ACT_SIGMOID = NNL_KACT_SIGMOID,
    NNL_ACT_HARD_SIGMOID = NNL_KACT_HARD_SIGMOID,
    NNL_ACT_TANH = NNL_KACT_TANH,
    NNL_ACT_SOFTMAX = NNL_KACT_SOFTMAX,
    NNL_ACT_SOFTPLUS = NNL_KACT_SOFTPLUS,
    NNL_ACT_SOFTSIGN = NNL_KACT_SOFTSIGN,
    NNL_ACT_SWISH = NNL_KACT_SWISH,     /* alias silu */
    NNL_ACT_COUNT
} nnl_act;

/* The kernel op of activation act (an nnl_act; the kernels' act_fwd,
 * act_bwd and the GEMM epilogue take it). */
static inline nnl_kact nnl_act_kernel(int act)
{
    return (nnl_kact)act;
}

typedef struct nnl_activation {
    const char *name;           /* Keras's name */
    const char *alias;          /* another accepted name ("silu"), or NULL */
    int kernel;                 /* its nnl_kact of simd/kernels.h */
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
