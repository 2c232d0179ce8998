/* The body of one peak-throughput function (see peak.h), included by
 * peak_avx2.c and peak_avx512.c, each compiled with its own -m flags.
 * The includer defines PEAK_NAME (the function), PEAK_V (the vector
 * type), PEAK_LANES, PEAK_CHAINS, PEAK_SET1, PEAK_FMA, PEAK_ADD and
 * PEAK_STORE.
 *
 * PEAK_CHAINS independent FMA chains must cover latency x ports (4 x 2 on
 * current x86) and, with the two constants, fit in the register file: 24
 * for the 32 zmm registers, 12 for the 16 ymm ones (24 ymm chains spilled
 * to the stack and measured 60 GFLOP/s instead of ~80). */
#include "peak.h"

#include <immintrin.h>
#include <time.h>

static double seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

double PEAK_NAME(float seed)
{
    const PEAK_V m = PEAK_SET1(1.0f + 1e-7f * seed), c = PEAK_SET1(1e-7f * seed);
    PEAK_V a[PEAK_CHAINS];
    for (int i = 0; i < PEAK_CHAINS; i++)
        a[i] = PEAK_SET1(seed * (float)i);
    const long iters = 20000000;
    double best = 0;
    for (int rep = 0; rep < 5; rep++) {
        double t0 = seconds();
        for (long n = 0; n < iters; n++) {
#pragma GCC unroll 24
            for (int i = 0; i < PEAK_CHAINS; i++)
                a[i] = PEAK_FMA(a[i], m, c);
        }
        double g = (double)PEAK_CHAINS * 2 * PEAK_LANES * (double)iters / (seconds() - t0) * 1e-9;
        best = g > best ? g : best;
    }
    PEAK_V s = a[0];
    for (int i = 1; i < PEAK_CHAINS; i++)
        s = PEAK_ADD(s, a[i]);
    float out[PEAK_LANES];
    PEAK_STORE(out, s);
    return out[0] == -1.0f ? 0 : best; /* keeps the chains alive */
}
