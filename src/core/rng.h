/* Reproducible random numbers: one global generator (xoshiro128** seeded by
 * splitmix64) behind nn.seed, plus explicit states for code that must not
 * disturb the global stream (data generators, shuffles in fit). */
#ifndef NNL_RNG_H
#define NNL_RNG_H
#include <stdint.h>

typedef struct nnl_rng { uint32_t s[4]; } nnl_rng;

void nnl_rng_seed(nnl_rng *r, uint64_t seed);
uint32_t nnl_rng_u32(nnl_rng *r);
/* Uniform in [0, 1) with 24 random bits (exactly representable as float). */
float nnl_rng_uniform(nnl_rng *r);
/* Standard normal (Box-Muller, both values used in turn is not kept: one
 * value per call, so streams do not depend on call parity). */
float nnl_rng_normal(nnl_rng *r);
/* Uniform integer in [0, n); n > 0. Unbiased (rejection). */
uint32_t nnl_rng_below(nnl_rng *r, uint32_t n);

/* The global generator used by nn.rand/nn.randn/initializers. Seeded with
 * a fixed default at start so runs are reproducible even without nn.seed. */
nnl_rng *nnl_rng_global(void);
void nnl_rng_global_seed(uint64_t seed);

#endif
