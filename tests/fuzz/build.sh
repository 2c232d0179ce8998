#!/bin/sh
# Builds the libFuzzer targets for the CSV parser and the IDX reader with
# clang (-fsanitize=fuzzer,address,undefined) into $OUT (default
# build-fuzz/), then, when given a number of seconds, runs one of them
# (with tests/fuzz/run.sh, which CI uses to run every target):
#   tests/fuzz/build.sh                 # build both
#   tests/fuzz/build.sh csv 600         # build, run fuzz_csv for 10 minutes
# Corpora live in tests/fuzz/corpus_csv and corpus_idx; new inputs found
# while fuzzing go to $OUT/corpus_* so the repository copy stays small.
# The data sources (and the file reader of the core they use) are compiled
# here with the fuzzer's instrumentation; the layers below them (tensors,
# the SIMD core, the core) are linked from an ordinary build's
# libnnl_tensor.a, libnnl_simd.a and libnnl_core.a: $BUILD (default build/),
# built if needed.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${OUT:-$ROOT/build-fuzz}
CC=${CC:-clang}
mkdir -p "$OUT"
CFLAGS="-std=c11 -D_POSIX_C_SOURCE=200809L -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -I$ROOT/src"
BUILD=${BUILD:-$ROOT/build}
[ -f "$BUILD/CMakeCache.txt" ] || cmake -S "$ROOT" -B "$BUILD" >/dev/null
cmake --build "$BUILD" --target nnl_tensor -j2 >/dev/null
CORE="$BUILD/libnnl_tensor.a $BUILD/libnnl_simd.a $BUILD/libnnl_core.a"
DATA="$ROOT/src/data/csv.c $ROOT/src/data/numparse.c $ROOT/src/data/labelmap.c $ROOT/src/core/readfile.c $ROOT/src/data/idx.c"
for t in csv idx; do
    $CC $CFLAGS "$ROOT/tests/fuzz/fuzz_$t.c" $DATA $CORE -lz -lm -lpthread -o "$OUT/fuzz_$t"
done
if [ $# -ge 2 ]; then
    OUT=$OUT exec sh "$ROOT/tests/fuzz/run.sh" --no-build "$2" "$1"
fi
