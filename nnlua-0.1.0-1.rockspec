-- LuaRocks: `luarocks make` in a checkout builds the nn module (nn.so)
-- against the system Lua 5.4 with CMake and installs it into the rocks
-- tree, where `require "nn"` finds it. Tests and the nnlua program are
-- left out (cmake --install installs those, see README.md).
rockspec_format = "3.0"
package = "nnlua"
version = "0.1.0-1"
source = {
  url = "git+file://.", -- built from the checkout it is in (luarocks make)
}
description = {
  summary = "A neural-network trainer in C driven from Lua 5.4",
  detailed = [[
Tensors with autograd, Keras-style models (Sequential, Dense, Conv2D,
compile, fit), data loaders, safe model files, gnuplot plots and
step-by-step explanations, on a SIMD math core (SSE2, AVX2, AVX-512).]],
}
dependencies = {
  "lua >= 5.4, < 5.5",
}
build = {
  type = "cmake",
  variables = {
    CMAKE_BUILD_TYPE = "Release",
    CMAKE_INSTALL_PREFIX = "$(PREFIX)",
    NNL_LUA_CMOD_DIR = "$(LIBDIR)",
    NNL_INSTALL_PROGRAM = "OFF",
    BUILD_TESTING = "OFF",
  },
}
