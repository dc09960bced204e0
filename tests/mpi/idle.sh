#!/bin/sh
# idle.sh FLAVOR: REVIVE_MPI_YIELD_WHEN_IDLE=1 (src/pml_hooks/idle.c). idle-FLAVOR's ranks wait
# about 0.6 s for rank 0 in MPI_Recv, MPI_Wait, MPI_Probe, MPI_Barrier, MPI_Bcast, MPI_Allreduce
# and MPI_Allgather, and under MPICH (rma=1) for an exclusive lock rank 0 holds and for its post
# (MPI_Win_lock/MPI_Win_unlock, MPI_Win_start): waits inside the library, whose UCX progress
# turns the layer sees (src/pml_hooks/lower_root.c). At 2 and 4 ranks: the same lines natively, under Revive, and under Revive
# with the setting; with it, every waiting rank's thread used at most MAXCPU percent (25) of
# its wait in CPU time and gave its core away at least MINSW (50) times in it (voluntary
# context switches: a thread polling flat out, as MPICH 4.0's do, or yielding without sleeping,
# as Open MPI's with mpi_yield_when_idle, makes none however loaded the machine; its CPU share
# does depend on the load). A value other than 0 or 1 stops the job with a message naming it.
# The native and the setting-less runs only give the lines to compare (and the spinning's
# numbers, said): their waits are 150 ms, not 600 (7 or 11 waits a run, 4 runs: 12 s less, and those
# runs poll their cores flat out meanwhile).
flavor=$1
. "$(dirname "$0")/mpienv.sh" || exit $?
bin=$REVIVE_BUILDDIR/tests/mpi/idle-$flavor
[ -x "$bin" ] || { echo "SKIP: $bin not built"; exit 77; }
max=${MAXCPU:-25} minsw=${MINSW:-50}
# Open MPI's one-sided waits and creations are its own progress loop (mpi_yield_when_idle yields, no sleep)
rma=0 waits=7
[ "$flavor" = mpich ] && rma=1 waits=11
fail=0
# the largest and the smallest field $1 of the "cpu" lines of $tmp/$2.err
most() { awk -v f="$1" '$1 == "cpu" && $f > m { m = $f } END { print m + 0 }' "$tmp/$2.err"; }
least() { awk -v f="$1" '$1 == "cpu" && (!s || $f < m) { m = $f; s = 1 } END { print m + 0 }' "$tmp/$2.err"; }
for n in 2 4; do
    run_native "$n" "$bin" 150 $rma >"$tmp/native.out" 2>"$tmp/native.err"; rn=$?
    REVIVE_MPI_YIELD_WHEN_IDLE=0 run_revive "$n" "$bin" 150 $rma >"$tmp/spin.out" 2>"$tmp/spin.err"; rs=$?
    REVIVE_MPI_YIELD_WHEN_IDLE=1 run_revive "$n" "$bin" 600 $rma >"$tmp/idle.out" 2>"$tmp/idle.err"; ri=$?
    for f in native spin idle; do sort "$tmp/$f.out" >"$tmp/$f.sorted"; done
    busy=$(awk -v max="$max" -v min="$minsw" '$1 == "cpu" && ($3 > max || $4 < min)' "$tmp/idle.err")
    calls=$(grep -c '^cpu ' "$tmp/idle.err")
    if [ $rn != 0 ] || [ $rs != 0 ] || [ $ri != 0 ]; then
        echo "FAIL np=$n: exit status native $rn, revive $rs, revive with the setting $ri"
        tail -3 "$tmp/idle.err" | sed 's/^/  /'; fail=1
    elif [ "$(wc -l <"$tmp/native.sorted")" != "$n" ] || ! cmp -s "$tmp/native.sorted" "$tmp/spin.sorted" ||
        ! cmp -s "$tmp/native.sorted" "$tmp/idle.sorted"; then
        echo "FAIL np=$n: outputs differ (native, revive, revive with the setting)"
        head -n 8 "$tmp/native.sorted" "$tmp/spin.sorted" "$tmp/idle.sorted"; fail=1
    elif [ "$calls" != $((waits * (n - 1))) ]; then
        echo "FAIL np=$n: $calls waits reported, expected $((waits * (n - 1)))"; fail=1
    elif [ -n "$busy" ]; then
        echo "FAIL np=$n: with the setting, waits used more than $max% CPU or gave the core away fewer than $minsw times (cpu CALL PERCENT SWITCHES):"
        echo "$busy" | sed 's/^/  /'; fail=1
    else
        echo "ok np=$n: $n lines identical; with the setting each wait used at most $(most 3 idle)% CPU" \
            "and gave the core away at least $(least 4 idle) times (without: at most $(most 3 spin)% and" \
            "$(most 4 spin) times)"
    fi
done
REVIVE_MPI_YIELD_WHEN_IDLE=yes run_revive 2 "$bin" 10 >"$tmp/bad.out" 2>"$tmp/bad.err"; rb=$?
if [ $rb = 0 ] || ! grep -q 'REVIVE_MPI_YIELD_WHEN_IDLE=yes (the environment): expected 0 or 1' "$tmp/bad.err"; then
    echo "FAIL: REVIVE_MPI_YIELD_WHEN_IDLE=yes: exit status $rb"; tail -3 "$tmp/bad.err" | sed 's/^/  /'; fail=1
else
    echo "ok: REVIVE_MPI_YIELD_WHEN_IDLE=yes refused ($(grep -m1 'YIELD_WHEN_IDLE' "$tmp/bad.err"))"
fi
exit $fail
