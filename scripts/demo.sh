#!/usr/bin/env bash
# Sets everything up, builds nnlua and runs a real example end to end:
# trains a classifier on the iris data set and draws its loss curves and
# network with gnuplot into out/.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
"$here/scripts/setup.sh" "$here/build"
mkdir -p "$here/out"
cd "$here/out"
"$here/build/nnlua" "$here/examples/iris.lua"
echo "demo: pictures are in $here/out"
