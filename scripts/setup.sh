#!/usr/bin/env bash
# Installs the Debian packages nnlua needs to build, test and run its
# examples, then configures and builds it. Idempotent: packages already
# present are not fetched again; an existing build dir is reused.
#
#   scripts/setup.sh [build-dir] [extra cmake args...]
#
# Environment: NNLUA_SKIP_APT=1 skips the package step (for machines where
# the packages are known to be installed); NNLUA_EXTRA_PACKAGES names more
# Debian packages to install (scripts/test.sh: those of the window test).
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build}
shift || true

packages=(build-essential cmake pkg-config liblua5.4-dev lua5.4
          libcmocka-dev libreadline-dev zlib1g-dev libcjson-dev gnuplot-nox
          python3-numpy)  # numpy: the test that reads a model file from Python
read -r -a extra <<<"${NNLUA_EXTRA_PACKAGES:-}"
packages+=("${extra[@]}")

missing=()
if [ "${NNLUA_SKIP_APT:-0}" != 1 ]; then
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
      || missing+=("$p")
  done
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
