#!/bin/sh
# Data-loading benchmark: nn.data.csv on a ~100 MB numeric CSV against
# numpy.loadtxt (Debian's numpy under /usr/bin/python3) on the same file,
# and nn.data.fashion_mnist() against `gzip -dc` of its four files.
#   bench/csv_bench.sh [path/to/nnlua]     (default: build/nnlua)
# Each figure is the best of 3 runs of CPU time (user + system), timed
# inside the process so that interpreter start-up is not counted: CPU time
# because Lua has no wall clock finer than a second, and because it is
# steadier on a shared machine. All loaders here are single-threaded.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
NNLUA=${1:-$ROOT/build/nnlua}
PY=/usr/bin/python3
WORK=${TMPDIR:-/tmp}/nnl_csv_bench
mkdir -p "$WORK"
CSV=$WORK/numeric_100mb.csv
[ -x "$NNLUA" ] || { echo "no nnlua at $NNLUA (give its path)"; exit 1; }

if [ ! -s "$CSV" ]; then
    echo "writing $CSV (600000 rows x 16 features + label) ..."
    $PY - "$CSV" <<'PYEOF'
import sys, numpy as np
rng = np.random.default_rng(1)
n, d = 600000, 16
x = rng.standard_normal((n, d)).astype(np.float32)
y = rng.integers(0, 10, n)
with open(sys.argv[1], "w") as f:
    f.write(",".join("f%d" % i for i in range(d)) + ",label\n")
    np.savetxt(f, np.column_stack([x, y]), fmt="%.7g", delimiter=",")
PYEOF
fi
MB=$(du -m "$CSV" | cut -f1)

cat > "$WORK/csv.lua" <<LUAEOF
local best = math.huge
local x, y
for _ = 1, 3 do
  local t0 = os.clock()
  x, y = nn.data.csv("$CSV")
  local t = os.clock() - t0
  if t < best then best = t end
  x, y = nil, nil
  collectgarbage()
end
print(string.format("%.3f", best))
LUAEOF
T_NN=$("$NNLUA" "$WORK/csv.lua")
T_NP=$($PY - "$CSV" <<'PYEOF'
import sys, time, numpy as np
best = 1e9
for _ in range(3):
    t0 = time.process_time()
    a = np.loadtxt(sys.argv[1], delimiter=",", skiprows=1, dtype=np.float32)
    best = min(best, time.process_time() - t0)
    del a
print("%.3f" % best)
PYEOF
)
echo "CSV ${MB} MB: nnlua ${T_NN} s ($(echo "$MB $T_NN" | awk '{printf "%.0f", $1/$2}') MB/s)," \
     "numpy.loadtxt ${T_NP} s ($(echo "$MB $T_NP" | awk '{printf "%.0f", $1/$2}') MB/s)," \
     "ratio $(echo "$T_NP $T_NN" | awk '{printf "%.2f", $1/$2}')x"

FM=${NNLUA_DATA:-/usr/share/datasets/fashion-mnist}
if [ -r "$FM/train-images-idx3-ubyte.gz" ]; then
    cat > "$WORK/fashion.lua" <<'LUAEOF'
local best = math.huge
for _ = 1, 3 do
  local t0 = os.clock()
  local d = nn.data.fashion_mnist()
  local t = os.clock() - t0
  if t < best then best = t end
  d = nil
  collectgarbage()
end
print(string.format("%.3f", best))
LUAEOF
    T_FM=$(NNLUA_DATA=$FM "$NNLUA" "$WORK/fashion.lua")
    best=999
    for _ in 1 2 3; do
        t=$( { /usr/bin/time -f "%U %S" sh -c "for f in $FM/*-ubyte.gz; do gzip -dc \$f; done > /dev/null"; } 2>&1 )
        best=$(echo "$best $t" | awk '{t = $2 + $3; print (t < $1) ? t : $1}')
    done
    echo "Fashion-MNIST (4 files): nnlua ${T_FM} s, gzip -dc ${best} s," \
         "ratio $(echo "$T_FM $best" | awk '{printf "%.2f", $1/$2}')x (limit 2x)"
else
    echo "Fashion-MNIST not installed (apt-get install dataset-fashion-mnist): skipped"
fi
