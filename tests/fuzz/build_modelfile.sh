#!/bin/sh
# Builds the libFuzzer targets of the model file loader and of the loader
# of files of named tensors (fuzz_safetensors, nn.load_tensors) with clang: the
# library layers up to the model (nnl_model and the layers below it, with
# the per-file SIMD flags; the kern_*.c kernels without sanitizers, see
# src/simd/simd.cmake) are configured by CMake with
# coverage instrumentation (-fsanitize=fuzzer-no-link) and ASan+UBSan, then
# tests/fuzz/fuzz_modelfile.c is linked against it. Given a number of
# seconds, it then runs the fuzzer on one core (with tests/fuzz/run.sh,
# which CI uses to run every target):
#   tests/fuzz/build_modelfile.sh          # build only
#   tests/fuzz/build_modelfile.sh 600      # build, fuzz for 10 minutes
# New inputs go to $OUT/corpus_modelfile; the seeds in
# tests/fuzz/corpus_modelfile stay as they are.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${OUT:-$ROOT/build-fuzz-modelfile}
SAN="-fsanitize=address,undefined -fno-sanitize-recover=all"
mkdir -p "$OUT"
CC=clang cmake -S "$ROOT" -B "$OUT/lib" -DCMAKE_BUILD_TYPE=Debug -DBUILD_TESTING=OFF \
    -DNNL_UNINSTRUMENTED_KERNELS=ON \
    -DCMAKE_C_FLAGS="-g -O1 -fsanitize=fuzzer-no-link $SAN" >/dev/null
cmake --build "$OUT/lib" --target nnl_model -j"$(nproc)" >/dev/null
LIB=$OUT/lib
clang -std=c11 -D_POSIX_C_SOURCE=200809L -g -O1 -fsanitize=fuzzer $SAN -I"$ROOT/src" \
    "$ROOT/tests/fuzz/fuzz_modelfile.c" \
    "$LIB/libnnl_model.a" "$LIB/libnnl_tensor.a" "$LIB/libnnl_simd.a" "$LIB/libnnl_core.a" \
    $(pkg-config --libs libcjson zlib) -lpthread -lm -o "$OUT/fuzz_modelfile"
clang -std=c11 -D_POSIX_C_SOURCE=200809L -g -O1 -fsanitize=fuzzer $SAN -I"$ROOT/src" \
    "$ROOT/tests/fuzz/fuzz_safetensors.c" \
    "$LIB/libnnl_model.a" "$LIB/libnnl_tensor.a" "$LIB/libnnl_simd.a" "$LIB/libnnl_core.a" \
    $(pkg-config --libs libcjson zlib) -lpthread -lm -o "$OUT/fuzz_safetensors"
if [ $# -ge 1 ]; then
    OUT_MODELFILE=$OUT exec sh "$ROOT/tests/fuzz/run.sh" --no-build "$1" modelfile
fi
