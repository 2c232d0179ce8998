#!/usr/bin/env bash
# Convolution speed, nnlua against PyTorch, on the Fashion-MNIST CNN's two
# convolutions at batch 128 (see bench/conv.c): ROUNDS rounds, each running
# at 1 and then 2 threads bench/conv (the default path), bench/conv
# --algo im2col (the other path) and bench/conv_torch.py, one after the
# other, so all see the same background load. Each run prints the median
# of REPS timed calls; this prints, per layer, pass and thread count, the
# median over the rounds with the min-max of the rounds, GFLOP/s of the
# median, and the ratio PyTorch/nnlua of the medians (above 1: nnlua is
# faster), against PyTorch's faster memory format for that line.
#
# PyTorch runs with torch.set_num_threads(t), threadpoolctl limiting its
# BLAS to t, and OMP_WAIT_POLICY=PASSIVE (at 2 threads its idle OpenMP
# threads otherwise spin on the 2 shared cores).
#
# Usage: bench/conv.sh [build-dir] [rounds] [reps]   (default build, 5, 11)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
rounds=${2:-5}
reps=${3:-11}
conv="$build/bench/conv"
py=/usr/bin/python3
[ -x "$conv" ] || { echo "conv.sh: $conv not found (give the build folder)" >&2; exit 2; }
log=$(mktemp)
trap 'rm -f "$log"' EXIT
echo "torch $($py -c 'import torch; print(torch.__version__)'); $(nproc) CPUs; load $(cut -d' ' -f1-3 /proc/loadavg)"
for ((r = 1; r <= rounds; r++)); do
  for t in 1 2; do
    "$conv" --threads "$t" --reps "$reps" >>"$log"
    "$conv" --threads "$t" --reps "$reps" --algo im2col --no-gemm >>"$log"
    OMP_WAIT_POLICY=PASSIVE OMP_NUM_THREADS=$t $py "$here/conv_torch.py" "$t" "$reps" >>"$log"
  done
  echo "round $r of $rounds done (load $(cut -d' ' -f1 /proc/loadavg))" >&2
done
$py - "$log" <<'EOF'
import collections, statistics, sys
runs = collections.defaultdict(list)
for line in open(sys.argv[1]):
    f = line.split()
    kv = dict(x.split("=", 1) for x in f[1:])
    key = (kv["layer"], kv["op"], int(kv["threads"]), f[0])
    runs[key].append((float(kv["ms"]), float(kv["gflops"]) * float(kv["ms"])))
def cell(key):
    v = runs.get(key)
    if not v:
        return None, "-"
    ms = [a for a, _ in v]
    med = statistics.median(ms)
    gf = v[0][1] / med  # gflops * ms is the work: the same for every run
    return med, "%7.2f ms [%.2f-%.2f] %5.1f GF/s" % (med, min(ms), max(ms), gf)
who = ["ours", "ours-im2col", "gemm", "torch-nchw", "torch-nhwc"]
print("%-6s %-4s %-3s  " % ("layer", "pass", "thr") + "  ".join("%-34s" % w for w in who) +
      "  torch/ours")
for layer in ("conv1", "conv2"):
    for op in ("fwd", "bwd"):
        for t in (1, 2):
            cells = [cell((layer, op, t, w)) for w in who]
            torch = [c[0] for c in cells[3:] if c[0]]
            ratio = "%.2f" % (min(torch) / cells[0][0]) if torch and cells[0][0] else "-"
            print("%-6s %-4s %-3d  " % (layer, op, t) +
                  "  ".join("%-34s" % c[1] for c in cells) + "  " + ratio)
EOF
