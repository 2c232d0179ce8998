/* Peak fp32 FMA throughput of one core, measured with independent
 * register-only FMA chains (24 zmm at avx512, 12 ymm at avx2: what a
 * perfect GEMM kernel could reach). Each
 * function is in its own file with its own -m flags; call it only when the
 * CPU has that level. Returns GFLOP/s. */
#ifndef NNL_BENCH_PEAK_H
#define NNL_BENCH_PEAK_H
double nnl_bench_peak_avx512(float seed);
double nnl_bench_peak_avx2(float seed);
#endif
