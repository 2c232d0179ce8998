/* Reproducible random numbers: see rng.h. */
#include "core/rng.h"

#include <math.h>

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

void nnl_rng_seed(nnl_rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i += 2) {
        uint64_t v = splitmix64(&seed);
        r->s[i] = (uint32_t)v;
        r->s[i + 1] = (uint32_t)(v >> 32);
    }
    if (!(r->s[0] | r->s[1] | r->s[2] | r->s[3]))
        r->s[0] = 1; /* the all-zero state is a fixed point */
}

static uint32_t rotl(uint32_t x, int k) { return (x << k) | (x >> (32 - k)); }

uint32_t nnl_rng_u32(nnl_rng *r)
{
    uint32_t *s = r->s;
    uint32_t result = rotl(s[1] * 5, 7) * 9;
    uint32_t t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
}

float nnl_rng_uniform(nnl_rng *r)
{
    return (float)(nnl_rng_u32(r) >> 8) * (1.0f / 16777216.0f);
}

float nnl_rng_normal(nnl_rng *r)
{
    /* u1 in (0,1] so log never sees 0. */
    double u1 = ((double)(nnl_rng_u32(r) >> 8) + 1.0) / 16777216.0;
    double u2 = (double)(nnl_rng_u32(r) >> 8) / 16777216.0;
    return (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
}

uint32_t nnl_rng_below(nnl_rng *r, uint32_t n)
{
    uint32_t limit = (uint32_t)(-n) % n; /* 2^32 mod n */
    uint32_t x;
    do {
        x = nnl_rng_u32(r);
    } while (x < limit);
    return x % n;
}

static nnl_rng global_rng;
static int global_seeded;

nnl_rng *nnl_rng_global(void)
{
    if (!global_seeded) {
        nnl_rng_seed(&global_rng, 42);
        global_seeded = 1;
    }
    return &global_rng;
}

void nnl_rng_global_seed(uint64_t seed)
{
    nnl_rng_seed(&global_rng, seed);
    global_seeded = 1;
}
