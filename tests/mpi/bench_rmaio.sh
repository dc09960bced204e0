#!/bin/sh
# bench_rmaio.sh FLAVOR: bench/mpi/rmaio.sh with a fractional SCALE (a short run: SCALE=0.05,
# REPS=1) gives every measure (20 since 7287dfd's six PSCW ones) a native value, a Revive value
# and a ratio, all finite and above 0. rmaio read SCALE with atoi: 0.05 became 0 iterations,
# every time 0/0, and the script's awk stopped on a division by zero. A SCALE that is not a
# number above 0 is refused in one line.
flavor=$1
. "$(dirname "$0")/mpienv.sh" || exit $?
[ -x "$REVIVE_BUILDDIR/bench/mpi/rmaio-$flavor" ] || { echo "SKIP: rmaio-$flavor not built"; exit 77; }
fail=0
out=$(cd "$REVIVE_BUILDDIR" && SCALE=0.05 REPS=1 timeout -k 5 600 sh "$REVIVE_SRCDIR/bench/mpi/rmaio.sh" "$flavor" 2>&1)
echo "$out"
# (an epoch that never ran kept rmaio's 1e30 s "best so far")
n=$(echo "$out" | awk '$1 ~ /_(8B|1MiB|16MiB)$/ && $2 + 0 > 0 && $4 + 0 > 0 && $6 + 0 > 0 &&
    $2 + 0 < 1e12 && $4 + 0 < 1e12 && $2 !~ /nan|inf/ && $4 !~ /nan|inf/ && $6 !~ /nan|inf/' | wc -l)
if [ "$n" != 20 ]; then
    echo "FAIL: SCALE=0.05: $n of 20 measures with a native value, a Revive value and a ratio"; fail=1
else
    echo "ok: SCALE=0.05: 20 measures, each with a native value, a Revive value and a ratio"
fi
bad=$(cd "$REVIVE_BUILDDIR" && timeout -k 5 60 "$launcher" -n 2 "bench/mpi/rmaio-$flavor" 0.x 2>&1); rc=$?
if [ $rc = 0 ] || ! echo "$bad" | grep -q "SCALE must be a number above 0"; then
    echo "FAIL: SCALE=0.x: status $rc, want one line refusing it"; echo "$bad" | tail -3; fail=1
else
    echo "ok: SCALE=0.x refused: $(echo "$bad" | grep -m1 'SCALE must')"
fi
exit $fail
