/* CPU feature probing: see cpuid.h. */
#include "simd/cpuid.h"

#include <pthread.h>
#include <string.h>

static nnl_cpu_features features;
static pthread_once_t probe_once = PTHREAD_ONCE_INIT;

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

/* XGETBV(0): which register states the OS saves on context switch. Written
 * as raw bytes so this file needs no -mxsave flag. */
static unsigned long long read_xcr0(void)
{
    unsigned int lo, hi;
    __asm__ volatile(".byte 0x0f, 0x01, 0xd0" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((unsigned long long)hi << 32) | lo;
}

static void probe(void)
{
    unsigned int a, b, c, d, maxleaf;
    if (!__get_cpuid(0, &maxleaf, &b, &c, &d))
        return;
    memcpy(features.vendor, &b, 4);
    memcpy(features.vendor + 4, &d, 4);
    memcpy(features.vendor + 8, &c, 4);
    features.vendor[12] = '\0';
    __get_cpuid(1, &a, &b, &c, &d);
    features.sse2 = (d >> 26) & 1;
    int osxsave = (c >> 27) & 1, avx = (c >> 28) & 1, fma = (c >> 12) & 1;
    unsigned long long xcr0 = osxsave ? read_xcr0() : 0;
    int ymm_ok = (xcr0 & 0x6) == 0x6;           /* SSE and AVX state */
    int zmm_ok = ymm_ok && (xcr0 & 0xe0) == 0xe0; /* opmask, ZMM_Hi256, Hi16_ZMM */
    features.avx = avx && ymm_ok;
    features.fma = fma && ymm_ok;
    if (maxleaf >= 7) {
        __cpuid_count(7, 0, a, b, c, d);
        features.avx2 = features.avx && ((b >> 5) & 1);
        features.avx512f = zmm_ok && ((b >> 16) & 1);
    }
}
#else
static void probe(void) {}
#endif

const nnl_cpu_features *nnl_cpu_features_get(void)
{
    pthread_once(&probe_once, probe);
    return &features;
}
