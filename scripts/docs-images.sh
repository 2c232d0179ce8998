#!/bin/sh
# Regenerates docs/images/ (the pictures of the documentation) with nnlua
# and gnuplot. Usage: scripts/docs-images.sh [path/to/nnlua]
# Default nnlua: $NNLUA_BIN, else build/nnlua, else nnlua in PATH.
set -eu
cd "$(dirname "$0")/.."
bin=${1:-${NNLUA_BIN:-}}
if [ -z "$bin" ]; then
    if [ -x build/nnlua ]; then bin=build/nnlua; else bin=nnlua; fi
fi
mkdir -p docs/images
exec "$bin" docs/make_images.lua docs/images
