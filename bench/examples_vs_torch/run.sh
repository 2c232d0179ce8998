#!/usr/bin/env bash
# Trains the architectures of examples/*.lua with nnlua and with PyTorch
# (Debian's python3-torch, /usr/bin/python3) on the same data splits, over
# 5 seeds each, and prints both. Both sides run with the same thread count
# (default 1), PyTorch with torch.set_num_threads, threadpoolctl for its
# OpenBLAS and OMP_WAIT_POLICY=PASSIVE (see docs/performance.md).
# Usage: bench/examples_vs_torch/run.sh [build-dir] [threads]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../../build}
threads=${2:-1}
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$build/nnlua" "$here/dump.lua" "$tmp"
echo "== nnlua"
"$build/nnlua" "$here/nnlua_examples.lua" "$threads"
echo "== PyTorch $(/usr/bin/python3 -c 'import torch; print(torch.__version__)')"
/usr/bin/python3 "$here/torch_examples.py" "$tmp" "$threads"
