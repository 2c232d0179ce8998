#!/usr/bin/env bash
# Data-parallel step time, the share of it spent in allreduce and the
# overlap achieved, nnlua against PyTorch DDP in one invocation, the driver
# behind docs/scaling.md's measured figures. Per model (the Fashion-MNIST
# MLP and CNN, global batch 128, 2 threads in all shared by the ranks):
#   nnlua 1 rank      build/nnlua bench/dist.lua M      (no mpirun)
#   nnlua compute     the same with batch 64 and 1 thread: a rank's compute
#                     at 2 ranks, alone (docs/scaling.md's T_compute(64))
#   nnlua 2 ranks     mpirun -np 2 build/nnlua bench/dist.lua M, overlap on,
#                     NNLUA_DIST_PROGRESS=thread (a progress thread moves the
#                     buckets)
#   nnlua 2, no ovl.  the same with NNLUA_DIST_OVERLAP=0 (buckets start after
#                     the backward pass)
#   nnlua 2, poll     NNLUA_DIST_PROGRESS=poll (buckets started and polled
#                     between layers by the main thread: the default when
#                     the ranks use every core), with and without overlap
#   torch 1 rank      bench/dist_torch.py 1 M
#   torch 2 ranks     bench/dist_torch.py 2 M (DDP, gloo: ddp, no_sync and
#                     serial-allreduce variants in one run)
#   torch 2, 256 KB   the same with BENCH_DDP_BUCKET_KB=256 (several buckets)
# [repeats] repeats (default 5), the order of the sides alternating between
# repeats so a burst of load hits both. Once per invocation, the allreduce
# micro-benchmarks that fit docs/scaling.md's constants: bench/allreduce_mpi.c
# (Open MPI, built here with mpicc) and bench/dist_torch.py 2 allreduce
# (gloo), both at 2 ranks.
# The nnlua runs at 2 ranks need an nnlua built with MPI (nn.dist.stats) and
# mpirun; without them they are skipped with a message and the rest runs.
# mpirun gets --bind-to none (the peer's processes are not bound either) and,
# as root, --allow-run-as-root --oversubscribe.
# Lines go to a log (BENCH_LOG, default a temporary file, kept and named at
# the end); bench/dist_summary.py LOG prints the medians, min-max, overlap
# and ratios, which this script does at the end.
# Usage: bench/dist.sh [build-dir] [repeats] [mlp|cnn|all]   (default: build 5 all)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
repeats=${2:-5}
what=${3:-all}
nnlua="$build/nnlua"
py=/usr/bin/python3
[ -x "$nnlua" ] || { echo "dist.sh: $nnlua not found (give the build folder)" >&2; exit 2; }
case $what in mlp|cnn|all) ;; *) echo "dist.sh: mlp, cnn or all, not '$what'" >&2; exit 2 ;; esac
models=$([ "$what" = all ] && echo "mlp cnn" || echo "$what")
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
log=${BENCH_LOG:-$(mktemp /tmp/nnlua-dist-bench.XXXXXX)}
: >"$log"
mpi=(mpirun --bind-to none -np 2)
[ "$(id -u)" = 0 ] && mpi+=(--allow-run-as-root --oversubscribe)

have_mpi=1
if ! command -v mpirun >/dev/null; then
  echo "dist.sh: no mpirun (apt-get install openmpi-bin): nnlua at 2 ranks skipped" >&2; have_mpi=0
elif ! "$nnlua" -e 'os.exit(nn.dist and nn.dist.stats and 0 or 1)'; then
  echo "dist.sh: this nnlua has no nn.dist.stats (built without MPI?): nnlua at 2 ranks skipped" >&2
  have_mpi=0
fi
if [ "$what" != mlp ] && ! "$nnlua" -e 'os.exit(nn.Conv2D and 0 or 1)'; then
  echo "dist.sh: no nn.Conv2D in this nnlua: cnn skipped" >&2; models=${models/cnn/}
fi

{
  echo "meta nnlua=$("$nnlua" -v | sed -n 's/^nnlua \([^ ]*\).*/\1/p')" \
       "torch=$($py -c 'import torch; print(torch.__version__)') repeats=$repeats ncpu=$(nproc)" \
       "date=$(date -u +%Y-%m-%dT%H:%MZ) mpi=$(mpirun --version 2>/dev/null | head -1 | tr ' ' '_')"
  echo "meta cpu=$(sed -n 's/^model name[[:space:]]*: *//p' /proc/cpuinfo | head -1 | tr ' ' '_')"
} >>"$log"

run() { # run CMD...: appends its result lines to the log and stderr
  local out
  # A bound on every run (BENCH_RUN_TIMEOUT seconds): a peer rank once hung
  # after its last collective.
  if ! out=$(timeout "${BENCH_RUN_TIMEOUT:-600}" "$@" 2>&1); then
    echo "dist.sh: failed: $*" >&2; echo "$out" | tail -5 >&2; return 0
  fi
  echo "$out" | grep -E '^(nnlua|torch|mpi)-' | tee -a "$log" | sed 's/^/  /' >&2
}

# The micro-benchmarks, once.
if command -v mpicc >/dev/null && command -v mpirun >/dev/null; then
  bin=$(mktemp -d /tmp/nnlua-dist-bench-bin.XXXXXX)
  mpicc -O2 -std=c11 -o "$bin/allreduce_mpi" "$here/allreduce_mpi.c"
  run "${mpi[@]}" "$bin/allreduce_mpi" 30 100
  rm -rf "$bin"
else
  echo "dist.sh: no mpicc (apt-get install libopenmpi-dev): no MPI micro-benchmark" >&2
fi
run $py "$here/dist_torch.py" 2 allreduce

ours() { # ours MODEL
  run "$nnlua" "$here/dist.lua" "$1"
  # One rank's compute at 2 ranks, alone: batch 64, 1 thread (the model's T_compute).
  BENCH_GLOBAL_BATCH=64 BENCH_THREADS_TOTAL=1 run "$nnlua" "$here/dist.lua" "$1"
  if [ "$have_mpi" = 1 ]; then
    # The buckets moved by a progress thread, and started and polled from
    # the main thread between layers (the default when the ranks use every
    # core, as here), each with and without overlap.
    for p in thread poll; do
      run "${mpi[@]}" -x OMP_WAIT_POLICY -x NNLUA_DIST_PROGRESS=$p "$nnlua" "$here/dist.lua" "$1"
      run "${mpi[@]}" -x OMP_WAIT_POLICY -x NNLUA_DIST_PROGRESS=$p -x NNLUA_DIST_OVERLAP=0 \
        "$nnlua" "$here/dist.lua" "$1"
    done
  fi
}
theirs() { # theirs MODEL
  run $py "$here/dist_torch.py" 1 "$1"
  run $py "$here/dist_torch.py" 2 "$1"
  BENCH_DDP_BUCKET_KB=256 run $py "$here/dist_torch.py" 2 "$1"
}
for ((r = 0; r < repeats; r++)); do
  for m in $models; do
    echo "repeat r=$r model=$m load=$(cut -d' ' -f1 /proc/loadavg)" >>"$log"
    echo "repeat $((r + 1))/$repeats $m, load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
    if ((r % 2 == 0)); then ours "$m"; theirs "$m"; else theirs "$m"; ours "$m"; fi
  done
done
$py "$here/dist_summary.py" "$log"
echo
echo "log: $log"
