#!/bin/bash
# Coordination time of a global snapshot with fake ranks (no MPI; tiny images), run by hand:
#   make -C _build check TESTS=tests/snapc/coord_bench.sh   (or REVIVE_BUILDDIR=... bash it)
# For 8 and 32 ranks (oversubscribed on this machine), 20 snapshots each while the ranks run
# collectives: the median time from the request to each phase (ms), from ckpt-mpirun --json.
# Not in make check's list: figures, not a pass/fail test.
. "$(dirname "$0")/lib.sh"
snapc_workdir snapc-bench
median() { sort -n | awk '{a[NR]=$1} END {print (NR ? a[int((NR+1)/2)] : "-")}'; }
for n in ${SNAPC_BENCH_RANKS:-8 32}; do
    start_job j$n $n --iters 100000000 --sleep-us 2000
    sleep 1
    for i in $(seq 1 ${SNAPC_BENCH_SNAPSHOTS:-20}); do
        "$CKPT" --json $JOB 2>/dev/null | head -1 >>"$W/j$n.json"
    done
    kill -TERM $JOB; wait $JOB
    printf '%3d ranks:' $n
    for k in targets quiesced drained captured established recovered; do
        v=$(sed -n "s/.*\"$k\":\([0-9-]*\).*/\1/p" "$W/j$n.json" | median)
        printf ' %s %s' $k "$v"
    done
    printf ' (ms from the request, median of %d)\n' "$(grep -c committed "$W/j$n.json")"
done
finish
