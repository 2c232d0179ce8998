/* Weight initializers: see init.h. */
#include "model/init.h"

#include <math.h>
#include <string.h>

static const char *const init_names[NNL_INIT_COUNT] = {
    "glorot_uniform", "glorot_normal", "he_uniform", "he_normal",
    "lecun_normal", "zeros", "ones", "random_normal", "random_uniform",
};

int nnl_init_from_name(const char *name)
{
    for (int i = 0; i < NNL_INIT_COUNT; i++)
        if (strcmp(name, init_names[i]) == 0)
            return i;
    return -1;
}

/* One line each for nn.help("initializers") (nn.registry.initializers). */
static const char *const init_help[NNL_INIT_COUNT] = {
    "uniform in +-sqrt(6 / (fan_in + fan_out)) (Keras's default for kernels)",
    "truncated normal, variance 2 / (fan_in + fan_out)",
    "uniform in +-sqrt(6 / fan_in) (suits relu)",
    "truncated normal, variance 2 / fan_in (suits relu)",
    "truncated normal, variance 1 / fan_in (suits selu)",
    "all 0 (the default for biases)",
    "all 1",
    "normal, mean 0 and standard deviation 0.05",
    "uniform in [-0.05, 0.05)",
};

const char *nnl_init_help(int init)
{
    return init >= 0 && init < NNL_INIT_COUNT ? init_help[init] : "?";
}

const char *nnl_init_name(int init)
{
    return init >= 0 && init < NNL_INIT_COUNT ? init_names[init] : "?";
}

const char *nnl_init_names(void)
{
    return "glorot_uniform, glorot_normal, he_uniform, he_normal, lecun_normal, "
           "zeros, ones, random_normal, random_uniform";
}

static int from_name(const char *name)
{
    return name ? nnl_init_from_name(name) : -1;
}

static const char *name_of(int i)
{
    return i >= 0 && i < NNL_INIT_COUNT ? init_names[i] : NULL;
}

const nnl_choice nnl_init_choice = {"initializer", from_name, name_of, nnl_init_names};

/* A standard normal truncated to [-2, 2] (resampled outside). */
static float truncated_normal(nnl_rng *rng)
{
    for (;;) {
        float v = nnl_rng_normal(rng);
        if (v >= -2.0f && v <= 2.0f)
            return v;
    }
}

static void fill_uniform(float *w, size_t n, float limit, nnl_rng *rng)
{
    for (size_t i = 0; i < n; i++)
        w[i] = (2.0f * nnl_rng_uniform(rng) - 1.0f) * limit;
}

/* Keras's variance scaling with a truncated normal: the stddev of a
 * standard normal truncated at +-2 is 0.87962566, so divide it out. */
static void fill_truncated(float *w, size_t n, double scale, nnl_rng *rng)
{
    float sd = (float)(sqrt(scale) / 0.87962566103423978);
    for (size_t i = 0; i < n; i++)
        w[i] = truncated_normal(rng) * sd;
}

void nnl_init_fill(int init, float *w, size_t n, size_t fan_in, size_t fan_out,
                   nnl_rng *rng)
{
    double fi = fan_in ? (double)fan_in : 1.0;
    double fo = fan_out ? (double)fan_out : 1.0;
    switch (init) {
    case NNL_INIT_GLOROT_UNIFORM:
        fill_uniform(w, n, (float)sqrt(6.0 / (fi + fo)), rng);
        break;
    case NNL_INIT_GLOROT_NORMAL:
        fill_truncated(w, n, 2.0 / (fi + fo), rng);
        break;
    case NNL_INIT_HE_UNIFORM:
        fill_uniform(w, n, (float)sqrt(6.0 / fi), rng);
        break;
    case NNL_INIT_HE_NORMAL:
        fill_truncated(w, n, 2.0 / fi, rng);
        break;
    case NNL_INIT_LECUN_NORMAL:
        fill_truncated(w, n, 1.0 / fi, rng);
        break;
    case NNL_INIT_ONES:
        for (size_t i = 0; i < n; i++)
            w[i] = 1.0f;
        break;
    case NNL_INIT_RANDOM_NORMAL:
        for (size_t i = 0; i < n; i++)
            w[i] = 0.05f * nnl_rng_normal(rng);
        break;
    case NNL_INIT_RANDOM_UNIFORM:
        fill_uniform(w, n, 0.05f, rng);
        break;
    case NNL_INIT_ZEROS:
    default:
        memset(w, 0, n * sizeof *w);
        break;
    }
}
