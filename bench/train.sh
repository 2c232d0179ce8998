#!/usr/bin/env bash
# Training throughput, nnlua vs PyTorch at its best, in one invocation:
#   mlp: MLP 784-256-128-10 (bench/train.lua vs bench/train_torch.py),
#        Adam, batch 128, one timed epoch of Fashion-MNIST after one untimed
#        warm-up epoch on both sides;
#   cnn: the Fashion-MNIST CNN of issue 12 (bench/train_cnn.lua vs
#        bench/train_cnn_torch.py) on the first BENCH_CNN_SAMPLES (12800)
#        training images after 10 untimed warm-up batches, with peak RSS and
#        the FLOP-bound ceiling from build/bench/gemm. Skipped cleanly when
#        this nnlua has no nn.Conv2D; BENCH_CNN_TORCH_ONLY=1 then still
#        measures the PyTorch side alone.
# At 1 and 2 threads, [runs] runs of each side (default 7), interleaved
# (nnlua first on even runs, PyTorch first on odd ones, so a burst of load
# from other jobs hits both alike), then the medians with min-max, the
# ratio of the medians nnlua/PyTorch (above 1: nnlua faster) and the
# min-max of the per-pair ratios; then the same per CPU-second of the timed
# region (samples / the process's CPU time: steadier than wall time on a
# loaded machine at 1 thread; at 2 threads it also shows CPU spent
# spinning). `uptime` is printed before each series.
# The peers' fairness settings (threads, threadpoolctl, OMP_WAIT_POLICY,
# plain loop, warm-up, metrics, denormals) are in their own files and
# docs/performance.md; the environment passes BENCH_* knobs through to both.
# Usage: bench/train.sh [build-dir] [runs] [mlp|cnn|all]   (default: build 7 all)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
runs=${2:-7}
what=${3:-all}
nnlua="$build/nnlua"
py=/usr/bin/python3
[ -x "$nnlua" ] || { echo "train.sh: $nnlua not found (give the build folder)" >&2; exit 2; }
# PASSIVE: idle OpenMP workers sleep instead of spinning against OpenBLAS's
# threads (train_torch.py sets it too when the environment does not).
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}

stats() { # numbers on stdin -> "median min max"
  sort -g | awk '{a[NR]=$1} END {m = (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2; print m, a[1], a[NR]}'
}
field() { sed -n "s/.*[ ]$1=\([0-9.e+-]*\).*/\1/p"; }
cpurate() { # samples per CPU-second of a result line
  local l; l=$(cat); awk -v n="$(echo "$l" | field samples)" -v c="$(echo "$l" | field cpu_s)" 'BEGIN {print n / c}'
}

# series NAME THREADS NNLUA-CMD... -- TORCH-CMD...: prints the summary
# line and sets MED_A and MED_B (median samples/s of nnlua and PyTorch);
# the run lines go to stderr. An empty NNLUA-CMD runs PyTorch alone.
series() {
  local name=$1 t=$2; shift 2
  local acmd=() bcmd=()
  while [ "$1" != "--" ]; do acmd+=("$1"); shift; done
  shift
  bcmd=("$@")
  local a=() b=() ra=() rb=() r=() ca=() cb=() la lb
  for ((i = 0; i < runs; i++)); do
    la=""
    if ((i % 2 == 0)); then
      if [ ${#acmd[@]} -gt 0 ]; then la=$("${acmd[@]}"); fi
      lb=$("${bcmd[@]}")
    else
      lb=$("${bcmd[@]}")
      if [ ${#acmd[@]} -gt 0 ]; then la=$("${acmd[@]}"); fi
    fi
    [ -n "$la" ] && echo "  $la" >&2
    echo "  $lb" >&2
    local sb; sb=$(echo "$lb" | field samples_per_s)
    b+=("$sb"); rb+=("$(echo "$lb" | field maxrss_kb)")
    cb+=("$(echo "$lb" | cpurate)")
    if [ -n "$la" ]; then
      local sa; sa=$(echo "$la" | field samples_per_s)
      a+=("$sa"); ra+=("$(echo "$la" | field maxrss_kb)")
      ca+=("$(echo "$la" | cpurate)")
      r+=("$(awk -v x="$sa" -v y="$sb" 'BEGIN {print x / y}')")
    fi
  done
  local sb mb; sb=$(printf '%s\n' "${b[@]}" | stats); mb=$(printf '%s\n' "${rb[@]}" | stats)
  MED_A="" MED_B=${sb%% *}
  if [ ${#a[@]} -eq 0 ]; then
    echo "$sb $mb" | awk -v n="$name" -v t="$t" -v k="$runs" '{
      printf "%s threads=%d  torch %.0f (%.0f-%.0f) samples/s  peak RSS %.0f MB  (medians of %d; nnlua pending)\n",
             n, t, $1, $2, $3, $4 / 1024, k }'
    printf '%s\n' "${cb[@]}" | stats | awk -v n="$name" -v t="$t" '{
      printf "%s threads=%d  per CPU-second: torch %.0f (%.0f-%.0f) samples\n", n, t, $1, $2, $3 }'
    return
  fi
  local sa ma sr; sa=$(printf '%s\n' "${a[@]}" | stats); ma=$(printf '%s\n' "${ra[@]}" | stats)
  sr=$(printf '%s\n' "${r[@]}" | stats)
  MED_A=${sa%% *}
  local qa qb; qa=$(printf '%s\n' "${ca[@]}" | stats); qb=$(printf '%s\n' "${cb[@]}" | stats)
  echo "$sa $sb $sr $ma $mb" | awk -v n="$name" -v t="$t" -v k="$runs" '{
    printf "%s threads=%d  nnlua %.0f (%.0f-%.0f)  torch %.0f (%.0f-%.0f) samples/s  ratio nnlua/torch %.2f (pairs %.2f-%.2f)  peak RSS %.0f / %.0f MB  (medians of %d)\n",
           n, t, $1, $2, $3, $4, $5, $6, $1 / $4, $8, $9, $10 / 1024, $13 / 1024, k }'
  echo "$qa $qb" | awk -v n="$name" -v t="$t" '{
    printf "%s threads=%d  per CPU-second: nnlua %.0f (%.0f-%.0f)  torch %.0f (%.0f-%.0f) samples  ratio %.2f\n",
           n, t, $1, $2, $3, $4, $5, $6, $1 / $4 }'
}

echo "nnlua: $("$nnlua" -v 2>&1 | head -1); torch: $($py -c 'import torch; print(torch.__version__)')"
echo "cpu: $(lscpu | sed -n 's/^Model name: *//p'), $(date -u +%Y-%m-%d)"

if [ "$what" = mlp ] || [ "$what" = all ]; then
  for t in 1 2; do
    echo "uptime before mlp threads=$t: $(uptime)"
    series mlp "$t" "$nnlua" "$here/train.lua" "$t" -- $py "$here/train_torch.py" "$t"
  done
fi

if [ "$what" = cnn ] || [ "$what" = all ]; then
  n=${BENCH_CNN_SAMPLES:-12800}
  flops=$("$nnlua" "$here/train_cnn.lua" 1 128 | field train_flops_per_sample)
  acmd=("$nnlua" "$here/train_cnn.lua")
  if ! "$nnlua" -e 'os.exit(nn.Conv2D and nn.MaxPooling2D and 0 or 1)'; then
    if [ "${BENCH_CNN_TORCH_ONLY:-0}" != 1 ]; then
      echo "cnn: skipped: nn.Conv2D is nil in this nnlua (pending Conv2D; BENCH_CNN_TORCH_ONLY=1 measures PyTorch alone)"
      exit 0
    fi
    acmd=()
  fi
  isa=$("$nnlua" -v | sed -n 's/.*), \([a-z0-9]*\),.*/\1/p')
  gemm=$build/bench/gemm
  for t in 1 2; do
    echo "uptime before cnn threads=$t: $(uptime)"
    if [ ${#acmd[@]} -gt 0 ]; then
      series cnn "$t" "${acmd[@]}" "$t" "$n" -- $py "$here/train_cnn_torch.py" "$t" "$n"
    else
      series cnn "$t" -- $py "$here/train_cnn_torch.py" "$t" "$n"
    fi
    if [ -x "$gemm" ]; then
      # The FLOP-bound ceiling: the CNN's product FLOPs per sample at the
      # GEMM's rate on square 512 products, measured now at t threads.
      g=$("$gemm" --isa "$isa" --threads "$t" --square --max 512 --no-openblas |
          awk -v i="$isa" -v t="$t" '$1 == i && $2 == t && $3 == "square" && $4 == 512 {print $8}')
      awk -v g="$g" -v f="$flops" -v t="$t" -v i="$isa" -v a="$MED_A" -v b="$MED_B" 'BEGIN {
        c = g * 1e9 / f
        printf "cnn threads=%d  %.2f MFLOP/sample (conv + dense products, forward + backward); GEMM square 512 at %s: %.1f GFLOP/s -> ceiling %.0f samples/s; torch %.0f%%, nnlua %s of it\n",
               t, f / 1e6, i, g, c, 100 * b / c, a == "" ? "pending" : sprintf("%.0f%%", 100 * a / c) }'
    else
      echo "cnn: no $gemm (cmake --build $build --target bench_gemm) for the ceiling"
    fi
  done
fi
