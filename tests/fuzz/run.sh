#!/bin/sh
# Runs the libFuzzer targets (CSV parser, IDX reader, model file loader,
# loader of files of named tensors)
# for a bounded time each on their corpora, as CI does (scripts/test.sh):
#   tests/fuzz/run.sh                    # build all, run each 20 s
#   tests/fuzz/run.sh 60 csv idx         # build all, run fuzz_csv and fuzz_idx 60 s each
#   tests/fuzz/run.sh --no-build 600 csv # run an already built target
# ($NNLUA_FUZZ_SECONDS is the default time.) It prints each target's
# number of executions. A crash, leak, timeout or out-of-memory of a target
# fails the run: the input is saved in $OUT/crashes/ and copied into the
# target's corpus (tests/fuzz/corpus_<target>/crash-<sha1>), so that, once
# the bug is fixed and the file committed, every later run replays it.
# New inputs the fuzzer finds go to $OUT/corpus_<target>, not into the
# repository. Targets are built by build.sh (csv, idx) into $OUT and
# build_modelfile.sh (modelfile, safetensors) into $OUT_MODELFILE (default
# $OUT-modelfile).
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${OUT:-$ROOT/build-fuzz}
MOUT=${OUT_MODELFILE:-$OUT-modelfile}
build=1
if [ "${1:-}" = "--no-build" ]; then
    build=0
    shift
fi
secs=${1:-${NNLUA_FUZZ_SECONDS:-20}}
[ $# -ge 1 ] && shift
targets=${*:-csv idx modelfile safetensors}

if [ $build = 1 ]; then
    for t in $targets; do
        case $t in
        csv | idx) need_data=1 ;;
        modelfile | safetensors) need_model=1 ;;
        *) echo "fuzz: unknown target '$t' (csv, idx, modelfile, safetensors)" >&2; exit 2 ;;
        esac
    done
    [ -z "${need_data:-}" ] || OUT=$OUT sh "$ROOT/tests/fuzz/build.sh"
    [ -z "${need_model:-}" ] || OUT=$MOUT sh "$ROOT/tests/fuzz/build_modelfile.sh"
fi

mkdir -p "$OUT/crashes"
failed=0
total=0
for t in $targets; do
    case $t in
    csv | idx)
        bin=$OUT/fuzz_$t
        opts="-max_len=4096 -rss_limit_mb=1024" ;;
    modelfile)
        bin=$MOUT/fuzz_modelfile
        opts="-max_len=8192 -rss_limit_mb=2048 -malloc_limit_mb=1024 -dict=$ROOT/tests/fuzz/modelfile.dict" ;;
    safetensors)
        bin=$MOUT/fuzz_safetensors
        opts="-max_len=4096 -rss_limit_mb=2048 -malloc_limit_mb=1024 -dict=$ROOT/tests/fuzz/safetensors.dict" ;;
    *) echo "fuzz: unknown target '$t'" >&2; exit 2 ;;
    esac
    [ -x "$bin" ] || { echo "fuzz: $bin is not built" >&2; exit 2; }
    mkdir -p "$OUT/corpus_$t"
    rm -f "$OUT/crashes/$t-"* # only this run's inputs are reported
    log=$OUT/fuzz_$t.log
    # -timeout: an input taking over 10 s is a hang (reported as a failure).
    status=0
    # shellcheck disable=SC2086 # opts is a list of options
    "$bin" -max_total_time="$secs" -timeout=10 $opts -print_final_stats=1 \
        -artifact_prefix="$OUT/crashes/$t-" \
        "$OUT/corpus_$t" "$ROOT/tests/fuzz/corpus_$t" >"$log" 2>&1 || status=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    corpus=$(ls "$ROOT/tests/fuzz/corpus_$t" | wc -l)
    echo "fuzz_$t: ${execs:-?} executions in $secs s (corpus of $corpus seeds), exit status $status"
    total=$((total + ${execs:-0}))
    if [ $status != 0 ]; then
        failed=1
        echo "fuzz_$t FAILED; the end of its log ($log):" >&2
        tail -n 60 "$log" >&2
        for f in "$OUT/crashes/$t-"*; do
            [ -f "$f" ] || continue
            sum=$(sha1sum "$f" | cut -c1-16)
            cp "$f" "$ROOT/tests/fuzz/corpus_$t/crash-$sum"
            echo "fuzz_$t: input $f copied to tests/fuzz/corpus_$t/crash-$sum" \
                 "(commit it with the fix)" >&2
        done
    fi
done
echo "fuzz: $total executions in all"
exit $failed
