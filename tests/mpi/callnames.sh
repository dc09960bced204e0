#!/bin/sh
# callnames.sh FLAVOR: a call Revive stops is named as the program wrote it. From Fortran
# (callnames.f90, built with the MPI's mpif90): MPI_COMM_SPAWN and MPI_OPEN_PORT (dynamic
# processes, not supported) and MPI_COMM_RANK before MPI_INIT, not the PMPI_ C names the bindings
# call. The C names for C programs are checked by badinput.sh.
flavor=$1
. "$(dirname "$0")/mpienv.sh" || exit $?
. "$(dirname "$0")/fortenv.sh" || exit $?
fort_compiler
bin=$tmp/callnames
fort_build callnames.f90 "$bin" -O1 "$REVIVE_SRCDIR/tests/mpi/callnames.f90"
fail=0
for c in "spawn:MPI_COMM_SPAWN is not supported under Revive" \
         "port:MPI_OPEN_PORT is not supported under Revive" \
         "early:MPI_COMM_RANK was called before MPI_INIT"; do
    mode=${c%%:*} want=${c#*:}
    (cd "$tmp" && run_revive 1 "$bin" "$mode") >"$tmp/out" 2>&1; rc=$?
    if [ $rc = 0 ] || [ $rc = 124 ] || [ $rc = 137 ]; then
        echo "FAIL $mode: exit status $rc (want non-zero, no timeout)"; fail=1
    elif ! grep -q "$want" "$tmp/out"; then
        echo "FAIL $mode: no message '$want'"; grep 'revive:' "$tmp/out" | sed 's/^/  /'; fail=1
    else
        echo "ok $mode: $(grep -o 'revive: mpi: .*' "$tmp/out" | head -1 | cut -c1-100)"
    fi
done
exit $fail
