#!/bin/sh
# Builds the libFuzzer targets for the CSV parser and the IDX reader with
# clang (-fsanitize=fuzzer,address,undefined) into $OUT (default
# build-fuzz/), then, when given a number of seconds, runs one of them
# (with tests/fuzz/run.sh, which CI uses to run every target):
#   tests/fuzz/build.sh                 # build both
#   tests/fuzz/build.sh csv 600         # build, run fuzz_csv for 10 minutes
# Corpora live in tests/fuzz/corpus_csv and corpus_idx; new inputs found
# while fuzzing go to $OUT/corpus_* so the repository copy stays small.
# The data sources are compiled here with the fuzzer's instrumentation; the
# rest of the core (tensors, which need the SIMD core) is linked from an
# ordinary build's libnnlcore.a: $BUILD (default build/), built if needed.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${OUT:-$ROOT/build-fuzz}
CC=${CC:-clang}
mkdir -p "$OUT"
CFLAGS="-std=c11 -D_POSIX_C_SOURCE=200809L -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -I$ROOT/src"
BUILD=${BUILD:-$ROOT/build}
[ -f "$BUILD/CMakeCache.txt" ] || cmake -S "$ROOT" -B "$BUILD" >/dev/null
cmake --build "$BUILD" --target nnlcore -j2 >/dev/null
CORE="$BUILD/libnnlcore.a"
DATA="$ROOT/src/data/csv.c $ROOT/src/data/numparse.c $ROOT/src/data/labelmap.c $ROOT/src/core/readfile.c $ROOT/src/data/idx.c"
for t in csv idx; do
    $CC $CFLAGS "$ROOT/tests/fuzz/fuzz_$t.c" $DATA $CORE -lz -lm -lpthread -o "$OUT/fuzz_$t"
done
if [ $# -ge 2 ]; then
    OUT=$OUT exec sh "$ROOT/tests/fuzz/run.sh" --no-build "$2" "$1"
fi
