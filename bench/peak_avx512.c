/* Peak fp32 FMA throughput at avx512: see peak.h and peak_body.h. */
#define PEAK_NAME nnl_bench_peak_avx512
#define PEAK_V __m512
#define PEAK_CHAINS 24
#define PEAK_LANES 16
#define PEAK_SET1 _mm512_set1_ps
#define PEAK_FMA _mm512_fmadd_ps
#define PEAK_ADD _mm512_add_ps
#define PEAK_STORE _mm512_storeu_ps
#include "peak_body.h"
