# The SIMD core: the library nnl_simd (CMakeLists.txt adds its include
# directory and links it on nnl_core). Kernel files for one
# instruction set get that set's flags alone (never the whole build), so the
# rest of the program runs on any x86-64 and dispatch.c picks the level at
# run time. All math-core files are built -O3 without floating-point
# contraction (fused multiply-adds only where a kernel asks for them).
set(NNL_SIMD_DIR ${CMAKE_CURRENT_LIST_DIR})
set(NNL_SIMD_SOURCES
    ${NNL_SIMD_DIR}/cpuid.c
    ${NNL_SIMD_DIR}/dispatch.c
    ${NNL_SIMD_DIR}/gemm.c
    ${NNL_SIMD_DIR}/kern_scalar.c
    ${NNL_SIMD_DIR}/kern_sse2.c
    ${NNL_SIMD_DIR}/kern_avx2.c
    ${NNL_SIMD_DIR}/kern_avx512.c)
add_library(nnl_simd STATIC ${NNL_SIMD_SOURCES})
set_source_files_properties(${NNL_SIMD_SOURCES} PROPERTIES
  COMPILE_OPTIONS "-O3;-ffp-contract=off")
if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64)$")
  set_property(SOURCE ${NNL_SIMD_DIR}/kern_sse2.c APPEND PROPERTY
    COMPILE_OPTIONS "-msse2")
  set_property(SOURCE ${NNL_SIMD_DIR}/kern_avx2.c APPEND PROPERTY
    COMPILE_OPTIONS "-mavx2;-mfma")
  set_property(SOURCE ${NNL_SIMD_DIR}/kern_avx512.c APPEND PROPERTY
    COMPILE_OPTIONS "-mavx512f;-mavx2;-mfma")
endif()
# The model-file fuzzer (tests/fuzz/build_modelfile.sh) instruments the code
# it fuzzes, not the kernels: clang at -O3 with ASan, UBSan and coverage
# took 3 minutes on kern_avx512.c, over 15 with its unrolled direct kernel
# (10 s without them), most of CI's time. The kernels stay checked by the
# sanitizer build of the tests (gcc) and their scalar-twin tests.
option(NNL_UNINSTRUMENTED_KERNELS "build kern_*.c without sanitizers (fuzz builds)" OFF)
if(NNL_UNINSTRUMENTED_KERNELS)
  set_property(SOURCE ${NNL_SIMD_DIR}/kern_scalar.c ${NNL_SIMD_DIR}/kern_sse2.c
    ${NNL_SIMD_DIR}/kern_avx2.c ${NNL_SIMD_DIR}/kern_avx512.c APPEND PROPERTY
    COMPILE_OPTIONS "-fno-sanitize=all")
endif()
