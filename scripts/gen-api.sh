#!/bin/sh
# Regenerates docs/api.md from the entries nn.help prints (lua/79_help_*.lua,
# lua/8N_help_*.lua, lua/90_help.lua and nn.registry), so that the two cannot
# disagree; tests/lua/test_help_api.lua fails when they do. Run from
# anywhere after a build:
#   scripts/gen-api.sh [path/to/nnlua]     (default build/nnlua)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
nnlua=${1:-$root/build/nnlua}
if [ ! -x "$nnlua" ]; then
    echo "gen-api.sh: no nnlua at $nnlua (build first, or give its path)" >&2
    exit 1
fi
tmp=$root/docs/api.md.tmp
"$nnlua" -e 'io.write(nn._help_markdown())' > "$tmp"
mv "$tmp" "$root/docs/api.md"
echo "docs/api.md: $(wc -l < "$root/docs/api.md") lines"
