/* CPU feature probing for the dispatcher (x86-64 cpuid and XGETBV).
 *
 * A feature counts only when both the CPU has it and the OS saves the
 * registers it needs (XCR0 bits), so a kernel never faults on a VM or OS
 * that disables AVX or AVX-512 state. On other architectures every flag is
 * false and the scalar kernels are used. */
#ifndef NNL_CPUID_H
#define NNL_CPUID_H

typedef struct nnl_cpu_features {
    int sse2;
    int avx;      /* AVX with ymm state saved by the OS */
    int avx2;
    int fma;
    int avx512f;  /* AVX-512F with opmask/zmm state saved by the OS */
    char vendor[13];
} nnl_cpu_features;

/* Probes the CPU once (thread-safe) and returns the cached result. */
const nnl_cpu_features *nnl_cpu_features_get(void);

#endif
