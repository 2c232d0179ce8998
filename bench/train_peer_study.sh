#!/usr/bin/env bash
# What each fairness setting of bench/train_torch.py (and bench/train.lua)
# is worth: the MLP benchmark's samples/s under variants of one setting at
# a time, round-robin (one run of every variant per round, so load from
# other jobs spreads over all of them), [runs] rounds, medians and min-max.
# The variants (docs/performance.md, "Fair peers", quotes the results):
#   torch as shipped now; the peer before issue 12 (OMP_NUM_THREADS=n,
#   OPENBLAS_NUM_THREADS=1, two .item() and an argmax per batch, no warm-up);
#   the old loop body alone; per-batch accuracy as a tensor; Adam
#   foreach=True; denormals flushed; no warm-up epoch; glibc's malloc
#   defaults instead of fixed mmap/trim thresholds; and at 2 threads
#   libgomp's default wait policy, OMP_WAIT_POLICY=ACTIVE, OpenBLAS on 1
#   thread. nnlua: as shipped, with metrics = {"accuracy"}, no warm-up.
# cnn: the same for bench/train_cnn_torch.py (PyTorch alone until nnlua has
# Conv2D) on BENCH_CNN_SAMPLES (6400) images: as shipped, NCHW memory
# format, glibc's malloc defaults, and at 2 threads OMP_WAIT_POLICY unset.
# Usage: bench/train_peer_study.sh [build-dir] [runs] [mlp|cnn] [threads...]
#        (default: build 3 mlp 1 2)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
runs=${2:-3}
kind=${3:-mlp}
shift 3 || shift $#
threads=("$@")
[ ${#threads[@]} -gt 0 ] || threads=(1 2)
nnlua="$build/nnlua"
py=/usr/bin/python3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The peer as it was before issue 12 (its loop, its environment, no warm-up).
git -C "$here" show ed69539:bench/train_torch.py > "$tmp/old_torch.py" 2>/dev/null || {
  echo "train_peer_study: cannot read the old peer from git (commit ed69539)" >&2; exit 2; }
# Today's peer with the old loop body (two .item() and an argmax per batch).
sed 's/^        opt.step()$/        opt.step()\n        _l = loss.item(); _c = (out.argmax(1) == yb).sum().item()/' \
  "$here/train_torch.py" > "$tmp/item_torch.py"
sed 's/eps=1e-7)/eps=1e-7, foreach=True)/' "$here/train_torch.py" > "$tmp/foreach_torch.py"
grep -q '_l = loss.item()' "$tmp/item_torch.py" && grep -q 'foreach=True' "$tmp/foreach_torch.py" || {
  echo "train_peer_study: could not derive the variants from train_torch.py" >&2; exit 2; }

rate() { sed -n 's/.*samples_per_s=\([0-9.]*\).*/\1/p'; }
stats() { sort -g | awk '{a[NR]=$1} END {m = (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2; printf "%7.0f (%.0f-%.0f)", m, a[1], a[NR]}'; }

for t in "${threads[@]}"; do
  names=() cmds=()
  add() { names+=("$1"); cmds+=("$2"); }
  if [ "$kind" = cnn ]; then
    c=${BENCH_CNN_SAMPLES:-6400}
    add "torch cnn now (channels-last)"  "$py $here/train_cnn_torch.py $t $c"
    add "torch cnn NCHW memory format"   "env BENCH_CHANNELS_LAST=0 $py $here/train_cnn_torch.py $t $c"
    add "torch cnn glibc malloc defaults" "env BENCH_MALLOC_DEFAULT=1 $py $here/train_cnn_torch.py $t $c"
    if [ "$t" -gt 1 ]; then
      add "torch cnn OMP_WAIT_POLICY unset" "env BENCH_OMP_DEFAULT=1 $py $here/train_cnn_torch.py $t $c"
    fi
  else
  add "nnlua (no metric, warm-up)"      "$nnlua $here/train.lua $t"
  add "nnlua metrics=accuracy"          "env BENCH_METRICS=accuracy $nnlua $here/train.lua $t"
  add "nnlua no warm-up"                "env BENCH_WARMUP=0 $nnlua $here/train.lua $t"
  add "torch now (train_torch.py)"      "$py $here/train_torch.py $t"
  add "torch before issue 12"           "env OMP_NUM_THREADS=$t OPENBLAS_NUM_THREADS=1 $py $tmp/old_torch.py $t"
  add "torch old loop (.item, argmax)"  "$py $tmp/item_torch.py $t"
  add "torch accuracy as tensor"        "env BENCH_METRICS=accuracy $py $here/train_torch.py $t"
  add "torch Adam foreach=True"         "$py $tmp/foreach_torch.py $t"
  add "torch flush denormals"           "env BENCH_FLUSH_DENORMAL=1 $py $here/train_torch.py $t"
  add "torch no warm-up"                "env BENCH_WARMUP=0 $py $here/train_torch.py $t"
  add "torch glibc malloc defaults"     "env BENCH_MALLOC_DEFAULT=1 $py $here/train_torch.py $t"
  if [ "$t" -gt 1 ]; then
    add "torch OMP_WAIT_POLICY unset"   "env BENCH_OMP_DEFAULT=1 $py $here/train_torch.py $t"
    add "torch OMP_WAIT_POLICY=ACTIVE"  "env OMP_WAIT_POLICY=ACTIVE $py $here/train_torch.py $t"
    add "torch OpenBLAS 1 thread"       "env BENCH_BLAS_THREADS=1 $py $here/train_torch.py $t"
  fi
  fi
  echo "$kind threads=$t, $runs rounds; uptime before: $(uptime)"
  declare -A res=()
  for ((r = 0; r < runs; r++)); do
    for i in "${!cmds[@]}"; do
      # OMP_WAIT_POLICY unset unless the variant sets it: the scripts
      # default it to PASSIVE themselves.
      l=$(env -u OMP_WAIT_POLICY ${cmds[$i]})
      echo "  [${names[$i]}] $l" >&2
      res[$i]+="$(echo "$l" | rate) "
    done
  done
  for i in "${!cmds[@]}"; do
    printf '  %-32s %s samples/s\n' "${names[$i]}" "$(echo ${res[$i]} | tr ' ' '\n' | stats)"
  done
  unset res
  echo "uptime after: $(uptime)"
done
