# Model file tests that are shell scripts (included from tests/CMakeLists.txt):
# a saved file read by Python with only json, struct and numpy.
add_test(NAME modelfile_python
  COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/test_modelfile_python.sh $<TARGET_FILE:nnlua>)
set_tests_properties(modelfile_python PROPERTIES SKIP_RETURN_CODE 77)
