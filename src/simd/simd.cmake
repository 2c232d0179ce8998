# The SIMD core: adds src/simd sources to nnlcore. Kernel files for one
# instruction set get that set's flags alone (never the whole build).
target_sources(nnlcore PRIVATE ${CMAKE_CURRENT_LIST_DIR}/dispatch.c
                           ${CMAKE_CURRENT_LIST_DIR}/gemm.c)
