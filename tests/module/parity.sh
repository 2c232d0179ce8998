#!/bin/sh
# The nn module under the stock interpreter as a Lua user runs it:
# `lua5.4 -l nn script.lua` (lua5.4 sets the global nn, as -l does for any
# module) and `lua5.4 -l nn -i` printing tensors and models exactly as the
# nnlua REPL does. Usage: parity.sh lua5.4 nnlua (LUA_CPATH finds nn.so).
set -eu
lua=$1
nnlua=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cat > "$dir/script.lua" <<'LUA'
local x, y = nn.data.xor()
local m = nn.Sequential{nn.Dense(4, {input_dim = 2, activation = "tanh"}), nn.Dense(1, "sigmoid")}
m:compile{loss = "binary_crossentropy", optimizer = "adam"}
m:fit(x, y, {epochs = 2, verbose = 0})
print("script ok", #m:predict(x))
LUA
out=$("$lua" -l nn "$dir/script.lua")
[ "$out" = "$(printf 'script ok\t4')" ] || { echo "lua5.4 -l nn script.lua: $out"; exit 1; }
cat > "$dir/input" <<'LUA'
nn.ones(2, 2)
nn.arange(3)
nn.Sequential{nn.Dense(1, {input_dim = 2})}
t = nn.zeros(2, 3)
t
LUA
# the banner (first line) differs; every line after it must be the same
"$lua" -l nn -i < "$dir/input" 2>&1 | tail -n +2 > "$dir/lua.out"
"$nnlua" -i < "$dir/input" 2>&1 | tail -n +2 > "$dir/nnlua.out"
if ! cmp -s "$dir/lua.out" "$dir/nnlua.out"; then
    echo "lua5.4 -l nn -i and nnlua -i print differently:"
    diff "$dir/lua.out" "$dir/nnlua.out" || true
    exit 1
fi
grep -q "tensor(\[\[1, 1\]," "$dir/lua.out" || { echo "no tensor printed"; cat "$dir/lua.out"; exit 1; }
echo "parity ok"
