#!/usr/bin/env bash
# Sets everything up, builds nnlua and runs a real example end to end:
# trains a classifier on the iris data set, then the seed example of the
# API, whose loss curves and network gnuplot draws into out/.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
"$here/scripts/setup.sh" "$here/build"
mkdir -p "$here/out"
cd "$here/out"
"$here/build/nnlua" "$here/examples/iris.lua"
"$here/build/nnlua" "$here/examples/seed.lua"   # writes loss.png and model.png
echo "demo: pictures are in $here/out"
