#!/bin/sh
# What a LivePlot costs nnlua's own process, counted in instructions
# (valgrind's callgrind: the same count on a loaded machine as on a quiet
# one, unlike the wall-clock figures of bench/liveplot.lua). gnuplot runs
# as a separate process and is not counted. One thread, so the count does
# not depend on how the pool's helpers spin.
#
#   bench/liveplot_cost.sh [path/to/nnlua]
#
# Prints the instructions of the digits fit (30 epochs) without a plot,
# and the extra instructions with a LivePlot, in percent of the fit: with
# an interval longer than the fit (what the default interval of 1 s gives
# this 40 ms fit: only the last frame, built and handed to a thread at the
# end) and with interval 0 (a frame after every epoch, the worst case).
set -eu
cd "$(dirname "$0")/.."
bin=${1:-build/nnlua}
command -v valgrind >/dev/null || { echo "liveplot_cost: valgrind is not installed" >&2; exit 2; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
count() {
  NNLUA_THREADS=1 valgrind --tool=callgrind --callgrind-out-file="$out/cg" \
    "$bin" bench/liveplot_fit.lua "$@" 2>&1 | sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
setup=$(count setup)
none=$(count none)
last=$(count 1e9 "$out/f.png")
every=$(count 0 "$out/f.png")
awk -v s="$setup" -v n="$none" -v l="$last" -v e="$every" 'BEGIN {
  fit = n - s
  printf "digits fit, 30 epochs: %.1f M instructions (setup %.1f M not counted)\n", fit / 1e6, s / 1e6
  printf "LivePlot, only the last frame: +%.2f M instructions = %.2f%% of the fit\n",
         (l - n) / 1e6, 100 * (l - n) / fit
  printf "LivePlot with a frame after every epoch: +%.2f M instructions = %.1f%% of the fit (%.0f k per epoch)\n",
         (e - n) / 1e6, 100 * (e - n) / fit, (e - n) / 30 / 1e3
}'
