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

static nnl_status dropout_build(nnl_layer *l, nnl_rng *rng, nnl_error *err)
{
    dropout_state *s = l->state;
    uint64_t seed = ((uint64_t)nnl_rng_u32(rng) << 32) | nnl_rng_u32(rng);
    nnl_rng_seed(&s->rng, seed);
    l->out_shape = l->in_shape;
    return NNL_OK;
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

static const nnl_layer_ops dropout_ops = {
    NNL_LAYER_DROPOUT, "Dropout", dropout_build, dropout_reserve, dropout_forward,
    dropout_backward, dropout_destroy,
};

nnl_layer *nnl_dropout_new(float rate, nnl_error *err)
{
    if (!(rate >= 0.0f && rate < 1.0f)) {
        nnl_fail(err, NNL_ERR_ARG, "nn.Dropout: rate must be in [0, 1), got %g",
                 (double)rate);
        return NULL;
    }
    nnl_layer *l = nnl_layer_alloc(&dropout_ops, sizeof(dropout_state), err);
    if (!l)
        return NULL;
    ((dropout_state *)l->state)->rate = rate;
    return l;
}

void nnl_layer_seed(nnl_layer *l, uint64_t seed)
{
    if (l->ops->kind == NNL_LAYER_DROPOUT)
        nnl_rng_seed(&((dropout_state *)l->state)->rng, seed);
}

float nnl_dropout_rate(const nnl_layer *l)
{
    return l->ops->kind == NNL_LAYER_DROPOUT ? ((const dropout_state *)l->state)->rate : 0.0f;
}

nnl_rng *nnl_dropout_rng(nnl_layer *l)
{
    return l->ops->kind == NNL_LAYER_DROPOUT ? &((dropout_state *)l->state)->rng : NULL;
}
