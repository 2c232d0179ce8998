#!/usr/bin/env bash
# Installs the Debian packages nnlua needs to build, test and run its
# examples, then configures and builds it. Idempotent: packages already
# present are not fetched again; an existing build dir is reused.
#
#   scripts/setup.sh [build-dir] [extra cmake args...]
#
# Environment: NNLUA_SKIP_APT=1 skips the package step (for machines where
# the packages are known to be installed); NNLUA_EXTRA_PACKAGES names more
# Debian packages to install and NNLUA_GNUPLOT_PACKAGE the gnuplot build
# (scripts/test.sh: those of the test in a real window).
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build}
shift || true

packages=(build-essential cmake pkg-config liblua5.4-dev lua5.4
          libcmocka-dev libreadline-dev zlib1g-dev libcjson-dev
          luarocks        # scripts/test.sh builds the rockspec with luarocks make
          python3-numpy   # numpy: the test that reads a model file from Python
          libopenmpi-dev openmpi-bin  # nn.dist: mpirun -np N nnlua (docs/scaling.md)
          dataset-fashion-mnist  # examples/fashion_cnn.lua and its --quick test
                                 # (30 MB; the test skips without it)
          clang libclang-rt-14-dev)  # the fuzz targets: clang and its libFuzzer
                                     # (Debian 12 only recommends the runtime)
read -r -a extra <<<"${NNLUA_EXTRA_PACKAGES:-}"
packages+=("${extra[@]}")

installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"
}

missing=()
if [ "${NNLUA_SKIP_APT:-0}" != 1 ]; then
  for p in "${packages[@]}"; do
    installed "$p" || missing+=("$p")
  done
  # gnuplot: Debian builds it three ways that replace one another. Any of
  # them will do (gnuplot-nox unless one is there), unless
  # NNLUA_GNUPLOT_PACKAGE asks for one (scripts/test.sh: gnuplot-x11, for
  # the test in a real window).
  want=${NNLUA_GNUPLOT_PACKAGE:-}
  if [ -n "$want" ]; then
    installed "$want" || missing+=("$want")
  elif ! installed gnuplot-nox && ! installed gnuplot-x11 && ! installed gnuplot-qt; then
    missing+=(gnuplot-nox)
  fi
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
cmake --build "$build" -j"$(nproc)"
