#!/bin/sh
# MPI-4 calls MPICH 4.0 has that Revive's layer does not forward yet (MPI_Isendrecv,
# MPI_Isendrecv_replace, persistent collectives, partitioned communication, sessions): each one
# works natively, and under Revive stops the job at once with one message naming the call, a
# non-zero status and no timeout. Open MPI 4.1 has none of these calls: no Open MPI variant.
flavor=mpich
. "$(dirname "$0")/mpienv.sh" || exit $?
bin=$REVIVE_BUILDDIR/tests/mpi/mpi4_stop-mpich
[ -x "$bin" ] || { echo "SKIP: $bin not built"; exit 77; }
fail=0
for c in isendrecv:MPI_Isendrecv isendrecv_replace:MPI_Isendrecv_replace \
         allreduce_init:MPI_Allreduce_init psend_init:MPI_Precv_init session_init:MPI_Session_init; do
    arg=${c%%:*} name=${c#*:}
    run_native 2 "$bin" "$arg" >"$tmp/n.out" 2>"$tmp/n.err"; rn=$?
    run_revive 2 "$bin" "$arg" >"$tmp/r.out" 2>&1; rr=$?
    if [ $rn != 0 ] || ! grep -q "^$arg ok" "$tmp/n.out"; then
        echo "FAIL $arg: the native run did not work (status $rn)"; tail -3 "$tmp/n.err"; fail=1
    elif [ $rr = 0 ] || [ $rr = 124 ] || [ $rr = 137 ] || grep -q "^$arg ok" "$tmp/r.out" ||
        ! grep -q "$name is not supported under Revive" "$tmp/r.out"; then
        echo "FAIL $arg: under Revive status $rr, want a stop naming $name"; tail -4 "$tmp/r.out"; fail=1
    else
        echo "ok $arg: $(grep -m1 'not supported under Revive' "$tmp/r.out" | cut -c1-160)"
    fi
done
exit $fail
