# nnl_dist: the MPI job (dist.h). With NNL_MPI (on when CMake finds MPI)
# dist_mpi.c on the MPI C library; without, dist_single.c, in which the
# process is always rank 0 of 1. The same nnlua runs with and without
# mpirun either way.
find_package(MPI COMPONENTS C QUIET)
option(NNL_MPI "data-parallel training over MPI (nn.dist)" ${MPI_C_FOUND})
if(NNL_MPI AND NOT MPI_C_FOUND)
  message(FATAL_ERROR "NNL_MPI is on but no MPI was found (apt-get install libopenmpi-dev)")
endif()
if(NNL_MPI)
  add_library(nnl_dist STATIC ${CMAKE_SOURCE_DIR}/src/dist/dist_mpi.c)
  target_link_libraries(nnl_dist PUBLIC MPI::MPI_C)
else()
  add_library(nnl_dist STATIC ${CMAKE_SOURCE_DIR}/src/dist/dist_single.c)
endif()
message(STATUS "nnlua: MPI ${NNL_MPI}")
