#!/usr/bin/env bash
# Trains the architectures of examples/*.lua with nnlua and with PyTorch
# (Debian's python3-torch, /usr/bin/python3) on the same data splits, over
# 5 seeds each, and prints both. Usage: bench/examples_vs_torch/run.sh [build-dir]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../../build}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$build/nnlua" "$here/dump.lua" "$tmp"
echo "== nnlua"
"$build/nnlua" "$here/nnlua_examples.lua"
echo "== PyTorch $(/usr/bin/python3 -c 'import torch; print(torch.__version__)')"
/usr/bin/python3 "$here/torch_examples.py" "$tmp"
