/* Peak fp32 FMA throughput at avx2: see peak.h and peak_body.h. */
#define PEAK_NAME nnl_bench_peak_avx2
#define PEAK_V __m256
#define PEAK_CHAINS 12
#define PEAK_LANES 8
#define PEAK_SET1 _mm256_set1_ps
#define PEAK_FMA _mm256_fmadd_ps
#define PEAK_ADD _mm256_add_ps
#define PEAK_STORE _mm256_storeu_ps
#include "peak_body.h"
