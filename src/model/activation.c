/* The activations by name: see activation.h. */
#include "model/activation.h"

#include <stdio.h>
#include <string.h>

static const nnl_activation table[] = {
    {"linear", NULL, NNL_KACT_LINEAR, 0.0f, NULL, "x"},
    {"relu", NULL, NNL_KACT_RELU, 0.0f, NULL, "max(0, x)"},
    {"leaky_relu", NULL, NNL_KACT_LEAKY_RELU, 0.2f, "negative_slope",
     "x if x > 0, else negative_slope * x (0.2)"},
    {"elu", NULL, NNL_KACT_ELU, 1.0f, "alpha", "x if x > 0, else alpha * (exp(x) - 1) (alpha 1)"},
    {"selu", NULL, NNL_KACT_SELU, 0.0f, NULL,
     "1.0507 * (x if x > 0, else 1.67326 * (exp(x) - 1))"},
    {"gelu", NULL, NNL_KACT_GELU, 0.0f, NULL, "x * Phi(x) (Phi: the normal CDF)"},
    {"sigmoid", NULL, NNL_KACT_SIGMOID, 0.0f, NULL, "1 / (1 + exp(-x))"},
    {"hard_sigmoid", NULL, NNL_KACT_HARD_SIGMOID, 0.0f, NULL, "clip(x / 6 + 0.5, 0, 1)"},
    {"tanh", NULL, NNL_KACT_TANH, 0.0f, NULL,
     "(exp(x) - exp(-x)) / (exp(x) + exp(-x))"},
    {"softmax", NULL, NNL_KACT_SOFTMAX, 0.0f, NULL, "exp(x_i) / sum_j exp(x_j) over the last dimension"},
    {"softplus", NULL, NNL_KACT_SOFTPLUS, 0.0f, NULL, "log(1 + exp(x))"},
    {"softsign", NULL, NNL_KACT_SOFTSIGN, 0.0f, NULL, "x / (1 + |x|)"},
    {"swish", "silu", NNL_KACT_SWISH, 0.0f, NULL, "x * sigmoid(x)"},
};
#define NACT (sizeof table / sizeof table[0])
_Static_assert(NACT == NNL_ACT_COUNT, "one entry per nnl_act, in its order");

const nnl_activation *nnl_activations(size_t *n)
{
    *n = NACT;
    return table;
}

int nnl_activation_find(const char *name)
{
    if (!name)
        return -1;
    for (size_t i = 0; i < NACT; i++)
        if (strcmp(name, table[i].name) == 0 || (table[i].alias && strcmp(name, table[i].alias) == 0))
            return (int)i;
    return -1;
}

const char *nnl_activation_name(int i)
{
    return i >= 0 && (size_t)i < NACT ? table[i].name : NULL;
}

const char *nnl_activation_names(void)
{
    static char list[512];
    if (!list[0]) {
        size_t used = 0;
        for (size_t i = 0; i < NACT; i++)
            used += (size_t)snprintf(list + used, sizeof list - used, "%s%s%s%s%s",
                                     i ? ", " : "", table[i].name,
                                     table[i].alias ? " (" : "",
                                     table[i].alias ? table[i].alias : "",
                                     table[i].alias ? ")" : "");
    }
    return list;
}

float nnl_activation_param(int i)
{
    return i >= 0 && (size_t)i < NACT ? table[i].param : 0.0f;
}

const nnl_choice nnl_activation_choice = {
    "activation", nnl_activation_find, nnl_activation_name, nnl_activation_names,
};
