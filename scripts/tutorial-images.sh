#!/bin/sh
# Regenerates docs/images/tutorial/ (the pictures of docs/tutorial.md): runs
# the tutorial's ```lua blocks in a scratch directory exactly as the docs
# test does (tests/lua/test_docs.lua --run: one process, one chunk per
# block, norun blocks skipped), and copies the pictures they write there.
# Usage: scripts/tutorial-images.sh [path/to/nnlua]
# Default nnlua: $NNLUA_BIN, else build/nnlua, else nnlua in PATH.
set -eu
cd "$(dirname "$0")/.."
root=$(pwd)
bin=${1:-${NNLUA_BIN:-}}
if [ -z "$bin" ]; then
    if [ -x build/nnlua ]; then bin=$root/build/nnlua; else bin=nnlua; fi
fi
case $bin in /*|nnlua) ;; *) bin=$root/$bin ;; esac
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
for sub in examples tests docs; do ln -s "$root/$sub" "$tmp/$sub"; done
(cd "$tmp" && env -u DISPLAY NNLUA_SRC="$root" "$bin" "$root/tests/lua/test_docs.lua" \
    --run "$root/docs/tutorial.md" docs/tutorial.md)
mkdir -p docs/images/tutorial
n=0
for f in "$tmp"/*.png "$tmp"/*.gif; do
    [ -e "$f" ] || continue
    cp "$f" docs/images/tutorial/
    n=$((n + 1))
done
echo "copied $n pictures into docs/images/tutorial/"
