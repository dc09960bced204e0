#!/bin/sh
# fortran.sh FLAVOR [PROGRAM [SOURCE [FLAGS...]]]: a Fortran program (tests/mpi/SOURCE, default
# PROGRAM.f90; PROGRAM default fortran) built with the MPI's own mpif90 and FLAGS, natively and
# under Revive with 1, 2 and 4 ranks; outputs must be identical and every rank on the lower half.
flavor=$1 prog=${2:-fortran} src=${3:-${2:-fortran}.f90}
if [ $# -ge 3 ]; then shift 3; else set --; fi
. "$(dirname "$0")/mpienv.sh" || exit $?
. "$(dirname "$0")/fortenv.sh" || exit $?
fort_compiler
bin=$tmp/$prog
fort_build "$src" "$bin" -O1 "$@" "$REVIVE_SRCDIR/tests/mpi/$src"
fail=0
for n in 1 2 4; do
    rm -f "$tmp/report"
    run_native "$n" "$bin" >"$tmp/native.out" 2>"$tmp/native.err"; rn=$?
    REVIVE_MPI_REPORT=$tmp/report run_revive "$n" "$bin" >"$tmp/revive.out" 2>"$tmp/revive.err"; rr=$?
    lines=$(cat "$tmp/report" 2>/dev/null | wc -l)
    if [ $rn != 0 ] || [ $rr != 0 ]; then
        echo "FAIL np=$n: exit status native $rn, revive $rr"; tail -3 "$tmp/revive.err"; fail=1
    elif ! cmp -s "$tmp/native.out" "$tmp/revive.out" || [ ! -s "$tmp/native.out" ]; then
        echo "FAIL np=$n: outputs differ"; diff "$tmp/native.out" "$tmp/revive.out" | head; fail=1
    elif [ "$lines" != "$n" ]; then
        echo "FAIL np=$n: $lines of $n ranks report running on Revive's lower half"; fail=1
    else
        echo "ok np=$n: $(wc -l <"$tmp/native.out") lines identical, $n ranks on the lower half"
    fi
done
exit $fail
