#!/usr/bin/env bash
# Sets everything up and runs the whole test suite: a warnings-as-errors
# build, then the same tests under AddressSanitizer + UBSan, then the fuzz
# targets for a bounded time each (tests/fuzz/run.sh).
#
#   scripts/test.sh            both builds and the fuzzers
#   NNLUA_TEST_SANITIZE=0 scripts/test.sh   the normal build only
#   NNLUA_FUZZ_SECONDS=60 scripts/test.sh   each fuzz target 60 s (default
#                                           20; 0 skips them)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
jobs=$(nproc)

# Also what the test of plots in a real X window needs (tests/test_plot_x11.sh).
NNLUA_EXTRA_PACKAGES="xvfb x11-apps x11-utils ${NNLUA_EXTRA_PACKAGES:-}" \
NNLUA_GNUPLOT_PACKAGE=gnuplot-x11 \
  "$here/scripts/setup.sh" "$here/build" -DNNL_WERROR=ON
(cd "$here/build" && ctest --output-on-failure -j"$jobs")

if [ "${NNLUA_TEST_SANITIZE:-1}" = 1 ]; then
  NNLUA_SKIP_APT=1 "$here/scripts/setup.sh" "$here/build-asan" \
    -DNNL_WERROR=ON -DNNL_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
  (cd "$here/build-asan" &&
   ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
   UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
   ctest --output-on-failure -j"$jobs")
fi

# The LuaRocks build: `luarocks make` of the rockspec builds nn.so against
# the system Lua 5.4 into a temporary tree, and require "nn" finds it there.
tree=$(mktemp -d)
(cd "$here" && luarocks --lua-version 5.4 make --tree "$tree" nnlua-*.rockspec >/dev/null)
LUA_CPATH="$tree/lib/lua/5.4/?.so" lua5.4 -e \
  'local nn = require "nn"; assert(nn.ones(2):sum() == 2); print("luarocks make: ok")'
rm -rf "$tree"

# The fuzz targets (CSV, IDX, model files, tensor files) on their corpora, each for a
# bounded time; a crash fails the run and its input is saved in the corpus.
fuzz_secs=${NNLUA_FUZZ_SECONDS:-20}
if [ "$fuzz_secs" != 0 ]; then
  OUT="$here/build-fuzz" BUILD="$here/build" NNLUA_FUZZ_SECONDS="$fuzz_secs" \
    sh "$here/tests/fuzz/run.sh"
fi
