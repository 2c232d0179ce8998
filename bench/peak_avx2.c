/* Peak fp32 FMA throughput at avx2: see peak.h. */
#include "peak.h"

#include <immintrin.h>
#include <time.h>

static double seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

double nnl_bench_peak_avx2(float seed)
{
    const __m256 m = _mm256_set1_ps(1.0f + 1e-7f * seed), c = _mm256_set1_ps(1e-7f * seed);
    __m256 a[24];
    for (int i = 0; i < 24; i++)
        a[i] = _mm256_set1_ps(seed * (float)i);
    const long iters = 20000000;
    double best = 0;
    for (int rep = 0; rep < 5; rep++) {
        double t0 = seconds();
        for (long n = 0; n < iters; n++) {
#pragma GCC unroll 24
            for (int i = 0; i < 24; i++)
                a[i] = _mm256_fmadd_ps(a[i], m, c);
        }
        double g = 24.0 * 2 * 8 * (double)iters / (seconds() - t0) * 1e-9;
        best = g > best ? g : best;
    }
    __m256 s = a[0];
    for (int i = 1; i < 24; i++)
        s = _mm256_add_ps(s, a[i]);
    float out[8];
    _mm256_storeu_ps(out, s);
    return out[0] == -1.0f ? 0 : best; /* keeps the chains alive */
}
