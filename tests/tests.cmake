# Extra tests of the Lua bindings (included at the end of tests/CMakeLists.txt).
# nn.so loaded by the stock lua5.4 interpreter: `require "nn"` must work
# without nnlua, from the module's own directory via LUA_CPATH.
find_program(NNL_LUA54 NAMES lua5.4 PATHS /usr/bin NO_DEFAULT_PATH)
if(NOT NNL_LUA54)
  find_program(NNL_LUA54 NAMES lua5.4)
endif()
if(NNL_LUA54)
  add_test(NAME module_require_nn
           COMMAND ${NNL_LUA54} ${CMAKE_CURRENT_SOURCE_DIR}/module/require_nn.lua)
  set_tests_properties(module_require_nn PROPERTIES
    WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR}/module
    ENVIRONMENT "LUA_CPATH=$<TARGET_FILE_DIR:nnmodule>/?.so;LUA_PATH=${CMAKE_CURRENT_SOURCE_DIR}/lua/?.lua")
  add_test(NAME module_lua_l_nn
           COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/module/parity.sh ${NNL_LUA54}
                   $<TARGET_FILE:nnlua>)
  set_tests_properties(module_lua_l_nn PROPERTIES
    ENVIRONMENT "LUA_CPATH=$<TARGET_FILE_DIR:nnmodule>/?.so")
  add_test(NAME install_layout
           COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/module/install.sh ${CMAKE_BINARY_DIR}
                   ${NNL_LUA54})
  if(NNL_SANITIZE)
    # lua5.4 is not built with ASan: its runtime must be loaded first for
    # the instrumented nn.so. Leaks are checked through nnlua instead (the
    # stock interpreter's dlopen'd modules confuse LeakSanitizer).
    execute_process(COMMAND ${CMAKE_C_COMPILER} -print-file-name=libasan.so
                    OUTPUT_VARIABLE NNL_LIBASAN OUTPUT_STRIP_TRAILING_WHITESPACE)
    set_property(TEST module_require_nn module_lua_l_nn install_layout APPEND PROPERTY ENVIRONMENT
                 "LD_PRELOAD=${NNL_LIBASAN}" "ASAN_OPTIONS=detect_leaks=0")
  endif()
else()
  message(STATUS "lua5.4 not found: the nn.so module test is skipped")
endif()

# Plots in a real X window (Xvfb + gnuplot-x11); skips when those are not
# installed (see the script's header).
add_test(NAME plot_x11
  COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/test_plot_x11.sh $<TARGET_FILE:nnlua>)
set_tests_properties(plot_x11 PROPERTIES SKIP_RETURN_CODE 77)

# The out-of-memory walk of the Lua binding (a lua_State with a failing
# allocator): it needs the binding (nnl_bind), which the test_*.c glob of
# tests/CMakeLists.txt does not link.
add_executable(test_lua_oom ${CMAKE_CURRENT_SOURCE_DIR}/lua_oom/test_lua_oom.c)
target_link_libraries(test_lua_oom PRIVATE nnl_bind PkgConfig::CMOCKA)
add_test(NAME test_lua_oom COMMAND test_lua_oom)
set_tests_properties(test_lua_oom PROPERTIES TIMEOUT 600)

# Every example (--quick) and every docs block run in these two; a few
# seconds each on a normal build, so a hang shows within minutes. ASan
# builds are several times slower.
if(NNL_SANITIZE)
  set(NNL_EXAMPLES_TIMEOUT 1200)
else()
  set(NNL_EXAMPLES_TIMEOUT 300)
endif()
set_tests_properties(lua_test_examples PROPERTIES TIMEOUT ${NNL_EXAMPLES_TIMEOUT})
set_tests_properties(lua_test_docs PROPERTIES TIMEOUT ${NNL_EXAMPLES_TIMEOUT})
