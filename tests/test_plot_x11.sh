#!/bin/sh
# Plots in a real window: an X server in memory (Xvfb), gnuplot's x11
# terminal (Debian's gnuplot-x11), and nnlua with $DISPLAY set. Checks that
# a LivePlot redrawing after every epoch uses one window for the whole fit,
# that a one-shot plot opens its own, that fit does not wait for either,
# and that the window shows a drawing (a screenshot with xwd, its distinct
# pixel values counted). Skips (77) when Xvfb, xwininfo, xwd or gnuplot-x11
# is missing: install xvfb x11-apps x11-utils gnuplot-x11 to run it
# (scripts/test.sh does).
#   sh tests/test_plot_x11.sh path/to/nnlua
set -u
nnlua=${1:?usage: test_plot_x11.sh nnlua}
for p in Xvfb xwininfo xwd; do
  command -v "$p" >/dev/null 2>&1 || { echo "skip: $p not installed"; exit 77; }
done
gp=$(command -v gnuplot-x11 || true)
[ -n "$gp" ] || { echo "skip: gnuplot-x11 not installed"; exit 77; }

work=$(mktemp -d)
xpid=
cleanup() {
  [ -n "$xpid" ] && kill "$xpid" 2>/dev/null
  pkill -f "gnuplot_x11.*$work" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }

# A free display number: Xvfb refuses one in use.
for n in 91 92 93 94 95 96 97 98; do
  [ -e "/tmp/.X$n-lock" ] && continue
  Xvfb ":$n" -screen 0 1280x800x24 -nolisten tcp >"$work/xvfb.log" 2>&1 &
  xpid=$!
  export DISPLAY=":$n"
  for _ in $(seq 50); do
    xwininfo -root >/dev/null 2>&1 && break
    sleep 0.1
  done
  xwininfo -root >/dev/null 2>&1 && break
  kill "$xpid" 2>/dev/null
  xpid=
done
[ -n "$xpid" ] || { echo "skip: Xvfb did not start"; exit 77; }

# Windows are named after the plot: "nnlua: <title>".
windows() { xwininfo -root -tree | grep -c '"nnlua' ; }
[ "$(windows)" = 0 ] || fail "windows before any plot"

cat >"$work/live.lua" <<'EOF'
nn.seed(1)
local x, y = nn.data.digits()
x = x / 16
local m = nn.Sequential({nn.Dense(32, {input_dim = 64, activation = "relu"}),
                         nn.Dense(10, {activation = "softmax"})})
m:compile{loss = "sparse_categorical_crossentropy", optimizer = "adam", metrics = {"accuracy"}}
local lp = nn.callbacks.LivePlot{title = "x11 live", interval = 0}
local frames = 0
local count = {on_epoch_end = function() if lp.session() then frames = frames + 1 end end}
local h = m:fit(x, y, {epochs = 25, batch_size = 64, validation_split = 0.1, verbose = 0,
                       callbacks = {lp, count}})
print("busy after fit", lp:busy())
assert(lp:wait())
print("frames", frames)
EOF
NNLUA_GNUPLOT=$gp "$nnlua" "$work/live.lua" >"$work/live.out" 2>&1 || fail "live run: $(cat "$work/live.out")"
grep -q "^frames	2[0-9]" "$work/live.out" || fail "a session for most epochs: $(cat "$work/live.out")"
# gnuplot has exited; its window stays (gnuplot_x11 outlives it).
for _ in $(seq 50); do [ "$(windows)" -ge 1 ] && break; sleep 0.1; done
[ "$(windows)" = 1 ] || fail "one window for the whole fit, found $(windows)"
xwininfo -root -tree | grep -q '"nnlua: x11 live"' || fail "the window is named after the plot"

xwd -root -silent >"$work/shot.xwd" || fail "xwd"
# The last 3 MB of the dump are pixels (1280x800, 4 bytes each).
colours=$(tail -c 3000000 "$work/shot.xwd" | od -An -v -tx4 | tr -s ' ' '\n' | sort -u | grep -c .)
[ "$colours" -ge 4 ] || fail "the window is blank ($colours colours)"

# A one-shot plot without a file opens a second window.
NNLUA_GNUPLOT=$gp "$nnlua" -e "nn.plot.lines({1, 2, 3}, {1, 4, 9}, {title = \"it's\\nlines\"})" \
  >"$work/lines.out" 2>&1 || fail "lines: $(cat "$work/lines.out")"
for _ in $(seq 50); do [ "$(windows)" -ge 2 ] && break; sleep 0.1; done
[ "$(windows)" = 2 ] || fail "a window per one-shot plot, found $(windows)"
xwininfo -root -tree | grep -q "\"nnlua: it's lines\"" || fail "a title with a quote and a newline names the window"
echo "ok: live plot in one window, one-shot plot in another, $colours colours on screen"
