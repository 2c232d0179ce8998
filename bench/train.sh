#!/usr/bin/env bash
# Training throughput and peak memory, nnlua vs PyTorch at its best, in one
# invocation, the driver behind docs/performance.md's training tables:
#   mlp: MLP 784-256-128-10 (bench/train.lua vs bench/train_torch.py),
#        Adam, batch 128, one timed epoch of Fashion-MNIST after one untimed
#        warm-up epoch on both sides;
#   cnn: the Fashion-MNIST CNN of issue 12 (bench/train_cnn.lua vs
#        bench/train_cnn_torch.py) on the first BENCH_CNN_SAMPLES (6400)
#        training images after 10 untimed warm-up batches, and our GEMM on
#        the CNN's product shapes (build/bench/gemm --conv --mlp) for the
#        FLOP-bound ceiling.
# [rounds] rounds (default 3); each round runs, at every thread count of
# BENCH_THREADS ("1 2"), one nnlua and one PyTorch run of each comparison
# back to back (nnlua first in even rounds, PyTorch first in odd ones) and
# then the GEMM, so a burst of load from other jobs hits both sides alike.
# The run lines go to stderr and to a log (BENCH_LOG, default a temporary
# file, kept and named at the end); bench/train_summary.py LOG then prints
# the tables (medians, min-max, ratios, per CPU-second, peak RSS, ceiling),
# which this script does at the end. Re-summarise a saved log with
#   /usr/bin/python3 bench/train_summary.py LOG
# The peers' fairness settings (threads, threadpoolctl, OMP_WAIT_POLICY,
# plain loop, warm-up, metrics, allocator) are in their own files and
# docs/performance.md; BENCH_* knobs in the environment reach both sides.
# Usage: bench/train.sh [build-dir] [rounds] [mlp|cnn|all]   (default: build 3 all)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
rounds=${2:-3}
what=${3:-all}
threads=${BENCH_THREADS:-1 2}
cnn_n=${BENCH_CNN_SAMPLES:-6400}
nnlua="$build/nnlua"
gemm="$build/bench/gemm"
py=/usr/bin/python3
[ -x "$nnlua" ] || { echo "train.sh: $nnlua not found (give the build folder)" >&2; exit 2; }
case $what in mlp|cnn|all) ;; *) echo "train.sh: mlp, cnn or all, not '$what'" >&2; exit 2 ;; esac
# PASSIVE: idle OpenMP workers sleep instead of spinning against OpenBLAS's
# threads (the peers set it too when the environment does not).
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
log=${BENCH_LOG:-$(mktemp /tmp/nnlua-train-bench.XXXXXX)}
: >"$log"

isa=$("$nnlua" -v | sed -n 's/.*), \([a-z0-9]*\),.*/\1/p')
{
  echo "meta nnlua=$("$nnlua" -v | sed -n 's/^nnlua \([^ ]*\).*/\1/p') isa=$isa" \
       "torch=$($py -c 'import torch; print(torch.__version__)') rounds=$rounds ncpu=$(nproc)" \
       "date=$(date -u +%Y-%m-%d) cnn_samples=$cnn_n"
  echo "meta cpu=$(sed -n 's/^model name[[:space:]]*: *//p' /proc/cpuinfo | head -1 | tr ' ' '_')"
  echo "meta build=$(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$build/CMakeCache.txt" 2>/dev/null | head -1)_build"
} >>"$log"

run() { # run CMD...: appends its result line to the log and stderr
  local l; l=$("$@")
  echo "$l" >>"$log"
  echo "  $l" >&2
}
pair() { # pair ROUND NNLUA-CMD... -- TORCH-CMD...
  local r=$1; shift
  local a=() b=()
  while [ "$1" != "--" ]; do a+=("$1"); shift; done
  shift; b=("$@")
  if ((r % 2 == 0)); then run "${a[@]}"; run "${b[@]}"; else run "${b[@]}"; run "${a[@]}"; fi
}

have_cnn=1
if [ "$what" != mlp ] && ! "$nnlua" -e 'os.exit(nn.Conv2D and nn.MaxPooling2D and 0 or 1)'; then
  echo "train.sh: cnn skipped: nn.Conv2D is nil in this nnlua" >&2; have_cnn=0
fi
for ((r = 0; r < rounds; r++)); do
  for t in $threads; do
    echo "round r=$r load=$(cut -d' ' -f1 /proc/loadavg) threads=$t" >>"$log"
    echo "round $((r + 1))/$rounds threads=$t, load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
    if [ "$what" != cnn ]; then
      pair "$r" "$nnlua" "$here/train.lua" "$t" -- $py "$here/train_torch.py" "$t"
    fi
    if [ "$what" != mlp ] && [ "$have_cnn" = 1 ]; then
      pair "$r" "$nnlua" "$here/train_cnn.lua" "$t" "$cnn_n" -- $py "$here/train_cnn_torch.py" "$t" "$cnn_n"
      if [ -x "$gemm" ]; then
        "$gemm" --isa "$isa" --threads "$t" --conv --mlp --reps 5 --no-openblas | sed 's/^/gemm /' >>"$log"
      elif [ "$r" = 0 ]; then
        echo "train.sh: no $gemm (cmake --build $build --target bench_gemm): no ceiling" >&2
      fi
    fi
  done
done
$py "$here/train_summary.py" "$log"
echo
echo "log: $log"
