#!/bin/sh
# badinput.sh FLAVOR: what Revive does with input it cannot run.
#  1. an unsupported MPI call stops the job with one message naming the call, non-zero, no hang;
#     so does a call made before MPI_Init (those the layer writes by hand among them);
#  2. a program not linked against MPI is refused by "mpirun -am ft-enable-cr" with a message;
#  3. an invalid argument reaches the application as natively (errors-return: same class).
#  4. the creation record lists the objects the comm test made, freed ones marked dead.
flavor=$1
. "$(dirname "$0")/mpienv.sh" || exit $?
bin=$REVIVE_BUILDDIR/tests/mpi/unsupported-$flavor
[ -x "$bin" ] || { echo "SKIP: $bin not built"; exit 77; }
fail=0
run_revive 2 "$bin" >"$tmp/r.out" 2>&1; rc=$?
if [ $rc = 0 ] || [ $rc = 124 ] || [ $rc = 137 ]; then
    echo "FAIL: unsupported call: exit status $rc (want non-zero, no timeout)"; fail=1
elif ! grep -q "MPI_Comm_spawn is not supported under Revive" "$tmp/r.out"; then
    echo "FAIL: no message naming MPI_Comm_spawn"; cat "$tmp/r.out"; fail=1
elif grep -q "spawn ok" "$tmp/r.out"; then
    echo "FAIL: the job went on after the unsupported call"; fail=1
else
    echo "ok: unsupported call stopped the job (exit $rc): $(grep -m1 'not supported' "$tmp/r.out")"
fi
# 1b. a call the layer writes by hand made before MPI_Init is named itself, not the call of the
# lower half it needs (diffrev46 R-L6: MPI_Grequest_start said "MPI_Wait was called ...")
early="MPI_Grequest_start MPI_Grequest_complete MPI_Probe MPI_Mprobe MPI_Mrecv MPI_Iprobe"
[ "$flavor" = mpich ] && early="$early MPI_Isendrecv MPI_Isendrecv_replace"
for call in $early; do
    run_revive 1 "$bin" early $call >"$tmp/e.out" 2>&1; rc=$?
    if [ $rc = 0 ] || [ $rc = 124 ] || [ $rc = 137 ]; then
        echo "FAIL: $call before MPI_Init: exit status $rc (want non-zero, no timeout)"; fail=1
    elif ! grep -q "$call was called before MPI_Init" "$tmp/e.out"; then
        echo "FAIL: $call before MPI_Init: no message naming it"; sed 's/^/  /' "$tmp/e.out" | head -n 5
        fail=1
    else
        echo "ok: $(grep -m1 -o "$call was called before MPI_Init.*" "$tmp/e.out")"
    fi
done
"$wrapper" -am ft-enable-cr -n 1 /bin/true >"$tmp/t.out" 2>&1; rc=$?
if [ $rc = 0 ] || ! grep -q "not linked against Open MPI" "$tmp/t.out"; then
    echo "FAIL: non-MPI program: exit $rc, $(cat "$tmp/t.out")"; fail=1
else
    echo "ok: non-MPI program refused: $(cat "$tmp/t.out")"
fi
comm=$REVIVE_BUILDDIR/tests/mpi/comm-$flavor
REVIVE_MPI_RECORD=$tmp/rec run_revive 2 "$comm" >/dev/null 2>&1 || { echo "FAIL: comm under Revive"; fail=1; }
for want in "dead MPI_Comm_dup" "dead MPI_Comm_create_keyval" "dead MPI_Info_create" \
            "live MPI_Comm_set_name" "dead MPI_Cart_create" "MPI_Group_incl"; do
    grep -q "$want" "$tmp/rec.0" 2>/dev/null || { echo "FAIL: creation record of rank 0 lacks '$want'"; fail=1; }
done
[ $fail = 0 ] && echo "ok: creation record has $(wc -l <"$tmp/rec.0") entries on rank 0"
exit $fail
