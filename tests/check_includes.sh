#!/bin/sh
# The include arrows of docs/building.md, checked on every file under src/
# (a ctest; the per-layer include directories of CMakeLists.txt already
# refuse an upward include when a .c file is compiled, but not in a header
# that no .c of its layer includes). Each folder src/<layer>/ may include
# "<other>/x.h" only for the layers listed for it below, and only src/bind
# and src/cli may include Lua's headers. A folder missing from the list
# fails the check: a new layer gets its place in the arrows here and in
# CMakeLists.txt. Files in subfolders of a layer belong to that layer.
#   tests/check_includes.sh [source root]   # exit 0: no violation
#   tests/check_includes.sh --self-test     # proves it catches violations
set -eu

allowed() {
    case $1 in
    core) echo "core" ;;
    simd) echo "core simd" ;;
    tensor) echo "core simd tensor" ;;
    model) echo "core simd tensor model" ;;
    data) echo "core simd tensor model data" ;;
    plot) echo "core simd tensor model plot" ;;
    dist) echo "core simd tensor model dist" ;;
    bind) echo "core simd tensor model data plot dist bind" ;;
    cli) echo "core simd tensor model data plot dist bind cli" ;;
    *) return 1 ;;
    esac
}
lua_ok() { [ "$1" = bind ] || [ "$1" = cli ]; }

check() {
    root=$1
    bad=0
    for dir in "$root"/src/*/; do
        layer=$(basename "$dir")
        if ! ok=$(allowed "$layer"); then
            echo "check_includes: src/$layer/ is not a known layer (add it to tests/check_includes.sh and CMakeLists.txt)"
            bad=1
            continue
        fi
        for f in $(find "$dir" -type f \( -name '*.c' -o -name '*.h' \) | sort); do
            # file:line:text of every include, quoted or angled.
            out=$(grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"]' "$f" |
                awk -v ok=" $ok " -v lua="$(lua_ok "$layer" && echo 1 || echo 0)" \
                    -v file="src/$layer/${f#"$dir"}" '
                {
                    line = $0; sub(/:.*/, "", line)
                    text = $0; sub(/^[0-9]+:/, "", text)
                    if (match(text, /"[^"]*"/)) {
                        name = substr(text, RSTART + 1, RLENGTH - 2)
                        if (index(name, "/")) {
                            top = name; sub(/\/.*/, "", top)
                            if (index(ok, " " top " ") == 0)
                                printf "%s:%s: includes \"%s\": layer %s may not include %s\n", file, line, name, layer_of(file), top
                        }
                        quoted = name
                    } else if (match(text, /<[^>]*>/)) {
                        quoted = substr(text, RSTART + 1, RLENGTH - 2)
                    } else
                        next
                    if (!lua && quoted ~ /(^|\/)(lua|lauxlib|lualib|luaconf)\.h$/)
                        printf "%s:%s: includes <%s>: only src/bind and src/cli include Lua\n", file, line, quoted
                }
                function layer_of(p) { sub(/^src\//, "", p); sub(/\/.*/, "", p); return p }')
            if [ -n "$out" ]; then
                echo "$out"
                bad=1
            fi
        done
    done
    return $bad
}

if [ "${1:-}" = "--self-test" ]; then
    t=$(mktemp -d)
    trap 'rm -rf "$t"' EXIT
    mkdir -p "$t/src/core" "$t/src/model" "$t/src/bind"
    printf '#include "core/a.h"\n#include <stdio.h>\n' >"$t/src/core/a.c"
    printf '#include "simd/kernels.h"\n#include "core/a.h"\n' >"$t/src/model/b.c"
    printf '#include <lua.h>\n#include "plot/plot.h"\n' >"$t/src/bind/c.c"
    check "$t" >/dev/null || { echo "check_includes: self-test: a clean tree fails" >&2; exit 1; }
    printf '#include "data/csv.h"\n' >"$t/src/model/d.h"
    printf '  # include "tensor/tensor.h"\n' >"$t/src/core/e.c"
    printf '#include <lua5.4/lauxlib.h>\n' >"$t/src/core/f.h"
    mkdir -p "$t/src/model/layers"
    printf '#include "bind/lnn.h"\n' >"$t/src/model/layers/g.c"
    mkdir -p "$t/src/newlayer"
    out=$(check "$t") && { echo "check_includes: self-test: violations pass" >&2; exit 1; }
    for want in 'src/model/d.h:1: includes "data/csv.h"' 'src/core/e.c:1: includes "tensor/tensor.h"' \
                'src/core/f.h:1: includes <lua5.4/lauxlib.h>' 'src/model/layers/g.c:1: includes "bind/lnn.h"' \
                'src/newlayer/ is not a known layer'; do
        case $out in
        *"$want"*) ;;
        *) echo "check_includes: self-test: missed $want; got:" >&2; echo "$out" >&2; exit 1 ;;
        esac
    done
    echo "check_includes: self-test passed"
    exit 0
fi

root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
if check "$root"; then
    echo "check_includes: every include of src/ follows the arrows"
else
    echo "check_includes: FAILED (the arrows: docs/building.md)" >&2
    exit 1
fi
