#!/bin/sh
# Runs one MPI test of tests/dist (ctest registers each NAME when NNL_MPI
# is on and mpirun is found):  run.sh NNLUA NAME
# Every mpirun runs under `timeout` (BOUND seconds), so no test can hang
# CI; a test passes when every rank printed its "rank R of N: ok" line
# (the faults tests instead check the exit status, the messages and the
# time the job took to end).
set -u
NNLUA=$1
NAME=$2
DIR=$(cd "$(dirname "$0")" && pwd)
BOUND=${NNLUA_TEST_BOUND:-120}
# Open MPI's own allocations count as leaks under LeakSanitizer.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" # the last setting wins
# A test sets its own deadline where it wants one.
unset NNLUA_DIST_TIMEOUT
T=$(mktemp -d "${TMPDIR:-/tmp}/nnlua-dist.XXXXXX")
trap 'rm -rf "$T"' EXIT

fail() {
    echo "FAIL $NAME: $*" >&2
    exit 1
}

# mp NP OUT args...: mpirun -np NP nnlua args, all output into OUT (and
# shown); returns mpirun's status.
mp() {
    np=$1 out=$2
    shift 2
    timeout -k 5 "$BOUND" mpirun --allow-run-as-root --oversubscribe -np "$np" \
        "$NNLUA" "$@" >"$out" 2>&1
    rc=$?
    cat "$out"
    return $rc
}

# one OUT args...: nnlua args without mpirun.
one() {
    out=$1
    shift
    timeout -k 5 "$BOUND" "$NNLUA" "$@" >"$out" 2>&1
    rc=$?
    cat "$out"
    return $rc
}

# ok NP OUT: every rank of NP said ok. mpirun forwards the ranks' output
# in chunks, so one rank's line can land inside another's: count the ranks,
# not the lines that start with it.
ok() {
    n=$(grep -o "rank [0-9]* of $1: ok" "$2" | sort -u | wc -l)
    [ "$n" -eq "$1" ] || fail "$n of $1 ranks said ok"
}

# Both: exit status 0 and every rank ok.
run_ok() {
    np=$1
    shift
    mp "$np" "$T/out" "$@" || fail "mpirun -np $np exited with $rc"
    ok "$np" "$T/out"
}

# fault CASE WANT...: mpirun -np 2 dist_faults.lua CASE must fail within
# 30 s with every WANT (fixed strings) in its output, rank 0 (the one
# left waiting) not saying ok, and no rank left running.
fault() {
    case=$1
    shift
    start=$(date +%s.%N)
    mp 2 "$T/out" "$DIR/dist_faults.lua" "$case" && fail "the job exited with 0"
    if [ "$rc" -eq 124 ] || { [ "$rc" -eq 137 ] && [ "$case" != kill ]; }; then
        fail "the job was ended by timeout $BOUND (status $rc): it hung"
    fi
    end=$(date +%s.%N)
    took=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }')
    echo "$NAME: the job ended with status $rc after $took s"
    awk -v t="$took" 'BEGIN { exit !(t < 30) }' || fail "took $took s (bound 30 s)"
    for want in "$@"; do
        grep -qF -- "$want" "$T/out" || fail "no '$want' in the output"
    done
    grep -q "^rank 0 of 2: ok" "$T/out" && fail "rank 0 said ok"
    sleep 1
    pgrep -f "dist_faults.lua $case\$" >/dev/null && fail "a rank is still running"
    return 0
}

case $NAME in
dist_match_2 | dist_match_3)
    np=${NAME#dist_match_}
    one "$T/ref.out" "$DIR/dist_match.lua" ref "$T/ref.lua" "$np" || fail "the 1-process run failed"
    run_ok "$np" "$DIR/dist_match.lua" dist "$T/ref.lua"
    # and with every bucket started after the backward pass
    export NNLUA_DIST_OVERLAP=0
    run_ok "$np" "$DIR/dist_match.lua" dist "$T/ref.lua" overlap=0
    unset NNLUA_DIST_OVERLAP
    # and with the other way of moving the buckets than this machine's
    # default (a progress thread only when the ranks leave cores free)
    for mode in poll thread; do
        export NNLUA_DIST_PROGRESS=$mode
        run_ok "$np" "$DIR/dist_match.lua" dist "$T/ref.lua"
    done
    unset NNLUA_DIST_PROGRESS
    ;;
dist_weights_hash)
    for np in 2 3; do
        run_ok "$np" "$DIR/dist_weights_hash.lua"
        n=$(grep "weights hash" "$T/out" | awk '{ print $4 }' | sort -u | wc -l)
        [ "$n" -eq 1 ] || fail "$np ranks printed $n different hashes"
    done
    ;;
dist_checkpoint)
    S="$DIR/dist_checkpoint.lua"
    # a 2-rank file resumed in one process and in 2 ranks
    run_ok 2 "$S" train "$T/a.safetensors" "$T/a.csv" 64
    one "$T/out" "$S" resume "$T/a.safetensors" 128 write "$T/a.lua" || fail "1-process resume"
    run_ok 2 "$S" resume "$T/a.safetensors" 64 compare "$T/a.lua"
    # a 1-process file resumed in one process and in 2 ranks
    one "$T/out" "$S" train "$T/b.safetensors" "$T/b.csv" 128 || fail "1-process train"
    one "$T/out" "$S" resume "$T/b.safetensors" 128 write "$T/b.lua" || fail "1-process resume"
    run_ok 2 "$S" resume "$T/b.safetensors" 64 compare "$T/b.lua"
    # the two files: 2 ranks x 64 and 1 x 128 trained alike
    one "$T/out" "$S" same "$T/a.safetensors" "$T/b.safetensors" || fail "the files differ"
    for f in a b; do
        [ "$(wc -l <"$T/$f.csv")" -eq 4 ] || fail "$f.csv has $(wc -l <"$T/$f.csv") lines, not 4"
    done
    ;;
dist_faults_error)
    fault error "rank 1 of 2: " "boom from the callback at epoch 2"
    ;;
dist_faults_caught)
    # not a fault of the job: a rank's caught error fails fit everywhere
    run_ok 2 "$DIR/dist_faults.lua" caught
    ;;
dist_faults_kill)
    fault kill "rank 1" "signal 9"
    ;;
dist_faults_early)
    fault early "nnlua: rank 0 of 2: " \
        "rank 1 ended its script after 0 collective calls, while rank 0 waits in call 1 (a barrier)"
    ;;
dist_faults_exit)
    fault exit "nnlua: rank 0 of 2: " "rank 1 ended its script after"
    ;;
dist_faults_mismatch)
    fault mismatch "the ranks disagree on the batch_size (16 to 17)"
    ;;
dist_faults_data)
    fault data "nnlua: rank 0 of 2: " "nnlua: rank 1 of 2: " \
        "the ranks disagree on the values of x (a sample of them)"
    ;;
dist_faults_deadline_fit)
    export NNLUA_DIST_TIMEOUT=1
    export NNLUA_DIST_PROGRESS=thread
    fault deadline_fit "nnlua: rank 0 of 2: " \
        "rank 0 waited 1 s for the other ranks in the gradient buckets (NNLUA_DIST_TIMEOUT)"
    export NNLUA_DIST_PROGRESS=poll
    fault deadline_fit "nnlua: rank 0 of 2: " \
        "rank 0 waited 1 s for the other ranks in the gradient buckets (NNLUA_DIST_TIMEOUT): are they"
    ;;
dist_faults_deadline)
    export NNLUA_DIST_TIMEOUT=1
    fault deadline "nnlua: rank 0 of 2: " "rank 0 waited 1 s for the other ranks in a barrier"
    ;;
dist_stop)
    run_ok 2 "$DIR/dist_stop.lua"
    run_ok 3 "$DIR/dist_stop.lua"
    ;;
dist_output)
    for np in 2 3; do
        mkdir -p "$T/$np"
        run_ok "$np" "$DIR/dist_output.lua" "$T/$np"
        for want in "Epoch 1/4 - " "Epoch 2: early stopping" "fit: warning: validation_split"; do
            n=$(grep -c "^$want" "$T/out")
            [ "$n" -eq 1 ] || fail "$np ranks printed '$want' $n times, not once"
        done
    done
    ;;
dist_api)
    run_ok 2 "$DIR/dist_api.lua"
    run_ok 3 "$DIR/dist_api.lua"
    ;;
dist_api_allgather_empty)
    run_ok 3 "$DIR/dist_api.lua" empty
    ;;
*)
    fail "no such test"
    ;;
esac
echo "$NAME: passed"
