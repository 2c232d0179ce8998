#!/usr/bin/env bash
# Training throughput, nnlua vs PyTorch, on the same MLP (784-256-128-10,
# Adam, batch 128, one epoch of Fashion-MNIST or random data of its shape):
# runs bench/train.lua and bench/train_torch.py 5 times each with 1 and 2
# threads and prints the median samples/s of each and the ratio
# nnlua/PyTorch (above 1: nnlua is faster). PyTorch runs with
# OMP_NUM_THREADS set to the thread count and OPENBLAS_NUM_THREADS=1:
# Debian's torch calls OpenBLAS (pthreads build), whose own threads
# torch.set_num_threads does not limit; with 2 OpenMP threads each
# starting 2 OpenBLAS threads on 2 cores, torch ran 20x slower than this
# way. BENCH_FLUSH_DENORMAL=1 in the environment makes PyTorch flush
# denormals (see train_torch.py).
# Usage: bench/train.sh [build-dir] [runs]   (build-dir holds nnlua; default build)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
runs=${2:-5}
nnlua="$build/nnlua"
py=/usr/bin/python3
[ -x "$nnlua" ] || { echo "train.sh: $nnlua not found (give the build folder)" >&2; exit 2; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
rate() { sed -n 's/.*samples_per_s=\([0-9.]*\).*/\1/p'; }
echo "nnlua: $("$nnlua" -v 2>&1 | head -1); torch: $($py -c 'import torch; print(torch.__version__)')"
for t in 1 2; do
  a=() b=()
  for ((i = 0; i < runs; i++)); do
    la=$("$nnlua" "$here/train.lua" "$t")
    lb=$(OMP_NUM_THREADS=$t OPENBLAS_NUM_THREADS=1 $py "$here/train_torch.py" "$t")
    echo "  $la" >&2
    echo "  $lb" >&2
    a+=("$(echo "$la" | rate)")
    b+=("$(echo "$lb" | rate)")
  done
  ma=$(printf '%s\n' "${a[@]}" | median)
  mb=$(printf '%s\n' "${b[@]}" | median)
  printf 'threads=%d  nnlua %8.0f samples/s  torch %8.0f samples/s  ratio nnlua/torch %.2f  (medians of %d)\n' \
    "$t" "$ma" "$mb" "$(awk -v a="$ma" -v b="$mb" 'BEGIN {print a / b}')" "$runs"
done
