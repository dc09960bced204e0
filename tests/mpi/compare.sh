#!/bin/sh
# compare.sh PROGRAM FLAVOR: runs tests/mpi/PROGRAM-FLAVOR natively and under Revive
# ("mpirun -am ft-enable-cr") with 1, 2, 4 and 8 ranks (REVIVE_TEST_QUICK=1: up to 4), and fails
# unless both runs succeed, print the same checksums, and every rank ran on the lower half.
prog=$1 flavor=$2
. "$(dirname "$0")/mpienv.sh" || exit $?
bin=$REVIVE_BUILDDIR/tests/mpi/$prog-$flavor
[ -x "$bin" ] || { echo "SKIP: $bin not built"; exit 77; }
nps="1 2 4 8"
[ "${REVIVE_TEST_QUICK:-0}" = 1 ] && nps="1 2 4"
fail=0
for n in $nps; do
    rm -f "$tmp/report"
    run_native "$n" "$bin" >"$tmp/native.out" 2>"$tmp/native.err"; rn=$?
    REVIVE_MPI_REPORT=$tmp/report run_revive "$n" "$bin" >"$tmp/revive.out" 2>"$tmp/revive.err"; rr=$?
    lines=$(cat "$tmp/report" 2>/dev/null | wc -l)
    if [ $rn != 0 ] || [ $rr != 0 ]; then
        echo "FAIL np=$n: exit status native $rn, revive $rr"; sed 's/^/  native: /' "$tmp/native.err" | tail -5
        sed 's/^/  revive: /' "$tmp/revive.err" | tail -5; fail=1
    elif ! cmp -s "$tmp/native.out" "$tmp/revive.out"; then
        echo "FAIL np=$n: outputs differ"; diff "$tmp/native.out" "$tmp/revive.out" | head -20; fail=1
    elif [ "$lines" != "$n" ]; then
        echo "FAIL np=$n: $lines of $n ranks report running on Revive's lower half"; fail=1
    elif [ ! -s "$tmp/native.out" ]; then
        echo "FAIL np=$n: no output"; fail=1
    else
        echo "ok np=$n: $(wc -l <"$tmp/native.out") checksum lines identical, $n ranks on the lower half"
    fi
done
exit $fail
