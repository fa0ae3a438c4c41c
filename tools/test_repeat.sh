#!/usr/bin/env bash
# Runs `make TARGET` N times in a row and stops at the first failure, then prints a one-line
# summary with the times (`make test-repeat N=10 LOAD=1 TARGET=test`, see README.md).
#
#     tools/test_repeat.sh N LOAD TARGET LOG_DIR
#
# LOAD=1 keeps both cores busy meanwhile: two shell busy loops, each bounded by `timeout`
# (LOAD_SECONDS, default 4 hours) and killed when this script ends, however it ends. Each run's
# output goes to LOG_DIR/run-<i>.log; the last lines of a failed run are printed.
set -u
n=$1 load=$2 target=$3 logs=$4
make=${MAKE:-make}
mkdir -p "$logs"

burners=()
stop_burners() {
    for pid in "${burners[@]}"; do kill "$pid" 2>/dev/null; done
    for pid in "${burners[@]}"; do wait "$pid" 2>/dev/null; done
    burners=()
}
trap stop_burners EXIT
if [ "$load" = 1 ]; then
    for _ in 1 2; do
        timeout "${LOAD_SECONDS:-14400}" sh -c 'while :; do :; done' &
        burners+=($!)
    done
fi

what="make $target, N=$n, LOAD=$load"
start=$(date +%s)
min="" max=0 passed=0
for i in $(seq 1 "$n"); do
    t0=$(date +%s)
    "$make" --no-print-directory "$target" >"$logs/run-$i.log" 2>&1
    rc=$?
    took=$(($(date +%s) - t0))
    if [ "$rc" != 0 ]; then
        tail -n 40 "$logs/run-$i.log"
        stop_burners
        echo "make test-repeat: FAILED at run $i of $n ($what) after $passed passed; run $i took ${took} s, $(($(date +%s) - start)) s in all; log: $logs/run-$i.log"
        exit 1
    fi
    passed=$((passed + 1))
    [ -z "$min" ] || [ "$took" -lt "$min" ] && min=$took
    [ "$took" -gt "$max" ] && max=$took
    echo "run $i of $n passed in ${took} s"
done
stop_burners
total=$(($(date +%s) - start))
echo "make test-repeat: $passed of $n passed ($what) in ${total} s; per run min ${min} s, mean $((total / n)) s, max ${max} s"
