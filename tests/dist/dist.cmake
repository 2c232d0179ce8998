# The MPI tests (included from tests/CMakeLists.txt): each runs nnlua
# under mpirun through tests/dist/run.sh, which bounds every mpirun with
# `timeout`. Registered only when nnlua is built with MPI and mpirun is
# found. Label "dist": ctest -L dist runs them alone.
find_program(NNL_MPIRUN mpirun)
if(NNL_MPI AND NNL_MPIRUN)
  set(NNL_DIST_TESTS
    dist_match_2 dist_match_3 dist_weights_hash dist_checkpoint dist_stop dist_output dist_api
    dist_faults_error dist_faults_caught dist_faults_kill dist_faults_early dist_faults_exit
    dist_faults_mismatch dist_faults_data dist_faults_deadline dist_faults_deadline_fit
    dist_api_allgather_empty)
  foreach(name ${NNL_DIST_TESTS})
    add_test(NAME ${name}
      COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/dist/run.sh $<TARGET_FILE:nnlua> ${name})
    set_tests_properties(${name} PROPERTIES LABELS dist TIMEOUT 400)
  endforeach()
endif()
