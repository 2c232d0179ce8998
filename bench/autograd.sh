#!/usr/bin/env bash
# Custom training loops (bench/autograd.lua) against fit and PyTorch's eager
# loop (bench/train_torch.py, at its best as docs/performance.md says), in
# one invocation: [rounds] rounds (default 3) at 1 thread of fit, the Lua
# loop, the nn.grad loop and torch, in an order that rotates each round;
# then the tape's overhead per op and the peak RSS of 10,000 loop steps.
# Prints the run lines and a summary (medians, min-max, ratios to fit and
# to torch). Usage: bench/autograd.sh [build-dir] [rounds]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
rounds=${2:-3}
nnlua=$build/nnlua
log=$(mktemp /tmp/nnlua-autograd.XXXXXX)
modes=(fit loop grad torch)
for r in $(seq 1 "$rounds"); do
  for k in 0 1 2 3; do
    m=${modes[$(( (k + r) % 4 ))]}
    if [ "$m" = torch ]; then
      /usr/bin/python3 "$here/train_torch.py" 1 1 2>/dev/null | sed 's/^torch /torch /' | tee -a "$log" >&2 || true
    else
      NNLUA_THREADS=1 "$nnlua" "$here/autograd.lua" "$m" 1 1 | tee -a "$log" >&2
    fi
  done
done
NNLUA_THREADS=1 "$nnlua" "$here/autograd.lua" overhead 1 | tee -a "$log"
NNLUA_THREADS=1 "$nnlua" "$here/autograd.lua" rss 1 | tee -a "$log"
/usr/bin/python3 - "$log" <<'PY'
import re, statistics, sys
runs = {}
for line in open(sys.argv[1]):
    m = re.match(r"(\w+) threads=\d+ .*samples_per_s=(\d+)", line)
    if m:
        runs.setdefault(m.group(1), []).append(float(m.group(2)))
med = {k: statistics.median(v) for k, v in runs.items()}
for k in ("fit", "loop", "grad", "torch"):
    if k in runs:
        v = runs[k]
        extra = ""
        if "fit" in med and k != "fit":
            extra += "  %.2fx fit" % (med[k] / med["fit"])
        if "torch" in med and k != "torch":
            extra += "  %.2fx torch" % (med[k] / med["torch"])
        print("%-6s median %7.0f samples/s (min %.0f, max %.0f, %d runs)%s"
              % (k, med[k], min(v), max(v), len(v), extra))
PY
echo "log: $log"
