/* Peak fp32 FMA throughput at avx512: see peak.h. */
#include "peak.h"

#include <immintrin.h>
#include <time.h>

static double seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

double nnl_bench_peak_avx512(float seed)
{
    const __m512 m = _mm512_set1_ps(1.0f + 1e-7f * seed), c = _mm512_set1_ps(1e-7f * seed);
    __m512 a[24];
    for (int i = 0; i < 24; i++)
        a[i] = _mm512_set1_ps(seed * (float)i);
    const long iters = 20000000;
    double best = 0;
    for (int rep = 0; rep < 5; rep++) {
        double t0 = seconds();
        for (long n = 0; n < iters; n++) {
#pragma GCC unroll 24
            for (int i = 0; i < 24; i++)
                a[i] = _mm512_fmadd_ps(a[i], m, c);
        }
        double g = 24.0 * 2 * 16 * (double)iters / (seconds() - t0) * 1e-9;
        best = g > best ? g : best;
    }
    __m512 s = a[0];
    for (int i = 1; i < 24; i++)
        s = _mm512_add_ps(s, a[i]);
    float out[16];
    _mm512_storeu_ps(out, s);
    return out[0] == -1.0f ? 0 : best; /* keeps the chains alive */
}
