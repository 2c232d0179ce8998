/* Dropout: while training, zeroes each input with probability `rate` and
 * scales the kept ones by 1 / (1 - rate) (inverted dropout, so inference
 * is the identity). Each forward pass draws a 64-bit seed from the layer's
 * own generator (seeded when the layer is built, saved in model files)
 * and the dropout kernel hashes (element, seed) into the mask: vectorised,
 * where drawing the generator per element took a third of the digits
 * example's training time. A seeded run is reproducible. */
#include "model/layer.h"

#include <string.h>
#include "core/alloc.h"
#include "simd/kernels.h"

/* Elements per kernel call: the kernel indexes with 32 bits. */
#define DROPOUT_CHUNK ((size_t)1 << 30)

typedef struct dropout_state {
    float rate;
    nnl_rng rng;
    float *mask;       /* owned: 0 or 1/(1-rate) per element, reserved size */
} dropout_state;

static nnl_status dropout_plan(const nnl_layer *l, const nnl_shape *in, nnl_shape *out,
                               nnl_weight_spec *w, int *nw, nnl_error *err)
{
    *out = *in;
    return NNL_OK;
}

/* The mask generator is seeded from the model's stream when the layer is
 * built, so nn.seed makes a run reproducible. */
static void dropout_fill(nnl_layer *l, nnl_rng *rng)
{
    dropout_state *s = l->state;
    uint64_t seed = ((uint64_t)nnl_rng_u32(rng) << 32) | nnl_rng_u32(rng);
    nnl_rng_seed(&s->rng, seed);
}

static nnl_status dropout_reserve(nnl_layer *l, size_t batch, nnl_error *err)
{
    dropout_state *s = l->state;
    float *m = nnl_malloc(batch * nnl_shape_numel(&l->in_shape) * sizeof *m);
    if (!m)
        return nnl_fail(err, NNL_ERR_NOMEM, "%s: out of memory for a batch of %zu",
                        l->name, batch);
    nnl_free(s->mask);
    s->mask = m;
    return NNL_OK;
}

static nnl_status dropout_forward(nnl_layer *l, size_t batch, const float *x, float *y,
                                  int train, nnl_error *err)
{
    dropout_state *s = l->state;
    size_t n = batch * nnl_shape_numel(&l->in_shape);
    if (!train || s->rate == 0.0f) {
        if (x != y)
            memcpy(y, x, n * sizeof *y);
        return NNL_OK;
    }
    const nnl_kernels *k = nnl_kernels_active();
    for (size_t i = 0; i < n; i += DROPOUT_CHUNK) {
        uint64_t seed = ((uint64_t)nnl_rng_u32(&s->rng) << 32) | nnl_rng_u32(&s->rng);
        size_t len = n - i < DROPOUT_CHUNK ? n - i : DROPOUT_CHUNK;
        k->dropout(len, seed, s->rate, x + i, y + i, s->mask + i);
    }
    return NNL_OK;
}

static nnl_status dropout_backward(nnl_layer *l, size_t batch, const float *x,
                                   const float *y, float *dy, float *dx, nnl_error *err)
{
    dropout_state *s = l->state;
    if (!dx)
        return NNL_OK;
    size_t n = batch * nnl_shape_numel(&l->in_shape);
    if (s->rate == 0.0f) {
        if (dx != dy)
            memcpy(dx, dy, n * sizeof *dx);
        return NNL_OK;
    }
    nnl_kernels_active()->mul(n, dy, s->mask, dx);
    return NNL_OK;
}

static void dropout_destroy(nnl_layer *l)
{
    dropout_state *s = l->state;
    if (s) {
        nnl_free(s->mask);
        s->mask = NULL;
    }
}

enum { O_RATE, O_COUNT };

static const nnl_option dropout_options[O_COUNT] = {
    [O_RATE] = {.key = "rate", .type = NNL_OPTION_NUM, .required = 1, .min = 0, .max = 1,
                .open_max = 1, .help = "fraction of the inputs to drop while training"},
};

static nnl_status dropout_init(nnl_layer *l, nnl_error *err)
{
    ((dropout_state *)l->state)->rate = (float)l->config[O_RATE].num;
    return NNL_OK;
}

static nnl_rng *dropout_rng(nnl_layer *l)
{
    return &((dropout_state *)l->state)->rng;
}

const nnl_layer_ops nnl_dropout_kind = {
    .type = "Dropout",
    .example = "local drop = nn.Dropout(0.5)\n"
                "print(drop(nn.ones(1, 6), {training = true})) -- zeros and 2s\n"
                "print(drop(nn.ones(1, 6)))                    -- inference: unchanged",
    .help = "Zeroes a fraction rate of the inputs while training and scales the others "
            "by 1 / (1 - rate); the identity in inference.",
    .options = dropout_options,
    .noptions = O_COUNT,
    .npositional = 1,
    .state_size = sizeof(dropout_state),
    .init = dropout_init,
    .plan = dropout_plan,
    .fill = dropout_fill,
    .reserve = dropout_reserve,
    .forward = dropout_forward,
    .backward = dropout_backward,
    .destroy = dropout_destroy,
    .rng = dropout_rng,
    .draw = NNL_DRAW_NONE,
    .train_differs = 1,
};

nnl_layer *nnl_dropout_new(float rate, nnl_error *err)
{
    nnl_value v[O_COUNT];
    nnl_values_default(dropout_options, O_COUNT, v);
    v[O_RATE].num = nnl_value_from_float(rate);
    return nnl_layer_create(&nnl_dropout_kind, v, err);
}
