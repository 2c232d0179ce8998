#!/bin/sh
# cmake --install into a fresh prefix: nnlua, nn.so where the stock lua5.4
# looks for C modules under that prefix (its package.cpath has
# <prefix>/lib/lua/5.4/?.so for /usr/local), the man page and the docs;
# the installed program and module run. Usage: install.sh build-dir lua5.4
set -eu
build=$1
lua=$2
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build" --prefix "$prefix" > /dev/null
for f in bin/nnlua lib/lua/5.4/nn.so share/man/man1/nnlua.1 share/doc/nnlua/README.md \
         share/doc/nnlua/docs/tutorial.md share/doc/nnlua/examples/xor.lua; do
    [ -e "$prefix/$f" ] || { echo "not installed: $f"; exit 1; }
done
# the stock interpreter searches /usr/local/lib/lua/5.4 (the default
# prefix) for C modules: the same relative place
"$lua" -e 'assert(package.cpath:find("/usr/local/lib/lua/5.4/?.so", 1, true), package.cpath)'
out=$(LUA_CPATH="$prefix/lib/lua/5.4/?.so" "$lua" -e 'local nn = require "nn"; io.write(nn.ones(2):sum())')
[ "$out" = "2.0" ] || [ "$out" = "2" ] || { echo "installed module: $out"; exit 1; }
out=$("$prefix/bin/nnlua" -e 'io.write(nn.version)')
[ -n "$out" ] || { echo "installed nnlua printed nothing"; exit 1; }
if command -v man > /dev/null 2>&1; then
    # (not under the ASan runtime the sanitizer build preloads for lua5.4)
    env -u LD_PRELOAD man -l "$prefix/share/man/man1/nnlua.1" 2>/dev/null | grep -q "train neural networks" ||
        { echo "man page does not render"; exit 1; }
fi
echo "install ok"
