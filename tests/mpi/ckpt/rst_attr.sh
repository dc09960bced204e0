#!/bin/bash
# rst_attr.sh FLAVOR: attributes across a restart. rst_attr keeps keyvals of communicators,
# datatypes and windows (the program's copy and delete callbacks; MPI_COMM_DUP_FN) with
# attributes on MPI_COMM_WORLD, MPI_COMM_SELF, a duplicated communicator, a derived datatype and
# a window; every step reads them, duplicates and frees (copy and delete callbacks), replaces the
# values (delete callbacks) and frees a window of its own with an attribute. It checkpoints
# itself at step 2 (pml_restart_capture, as rst_rma.sh) and ends as if killed; the restarted job
# checkpoints again at step 4 and ends; a second restart finishes (objects freed, keyvals freed,
# SELF's attribute deleted by MPI_Finalize). The step and final lines (values, callback counts,
# calls given a handle the program does not know) equal an uninterrupted native run's: no
# callback ran for the restart itself, each ran as the standard says after it. At 1, 2 and 4
# ranks (Open MPI: 2 and 4; its MPI_Win_allocate on one rank is heap memory, see rst_rma.sh).
flavor=$1
[ "$flavor" = ompi ] && export REVIVE_TEST_SINGLE_COPY=cma
export REVIVE_MPI_TIMEOUT=${REVIVE_MPI_TIMEOUT:-240}
. "$(dirname "$0")/../mpienv.sh" || exit $?
. "$(dirname "$0")/ckptenv.sh" || exit $?
prog=$REVIVE_BUILDDIR/tests/mpi/ckpt/rst_attr-$flavor
[ -x "$prog" ] || { echo "SKIP: $prog not built"; exit 77; }
steps=6
nps="1 2 4"
[ "$flavor" = ompi ] && nps="2 4"
for n in $nps; do
    d=$tmp/np$n
    mkdir -p "$d"
    run_native "$n" "$prog" $steps >"$d/native.out" 2>"$d/native.err"
    clean timeout -k 5 "$TMO" "$wrapper" -am ft-enable-cr -n "$n" "$prog" $steps "$d" 2,4 --exit \
        >"$d/orig.out" 2>"$d/orig.err"
    nimg=$(ls "$d/s2" 2>/dev/null | grep -c '^rank_[0-9]*\.img$')
    if [ "$nimg" != "$n" ]; then
        failed "np=$n: $nimg of $n rank images written"; sed 's/^/  /' "$d/orig.err" | tail -5; continue
    fi
    restart_job "$n" "$d/s2" >"$d/r1.out" 2>"$d/r.err"; rc=$?
    nimg=$(ls "$d/s4" 2>/dev/null | grep -c '^rank_[0-9]*\.img$')
    if [ "$nimg" != "$n" ]; then
        failed "np=$n: the restarted job wrote $nimg of $n rank images (status $rc$([ $rc = 124 ] && echo ": killed by the ${TMO} s timeout"))"
        grep -v '^$' "$d/r.err" | tail -6 | sed 's/^/  /'
        continue
    fi
    restart_job "$n" "$d/s4" >"$d/r.out" 2>>"$d/r.err"; rc=$?
    want=$(results "$d/native.out")
    got=$(results "$d/orig.out" "$d/r1.out" "$d/r.out")
    if [ $rc != 0 ]; then
        failed "np=$n restart: status $rc"; grep -v '^$' "$d/r.err" | tail -6 | sed 's/^/  /'
    elif [ -z "$want" ] || [ "$want" != "$got" ] || ! grep -q "wrong handles 0; keyvals freed 1" <<<"$want" ||
        ! grep -q "^done: SELF's attribute deleted" <<<"$got"; then
        failed "np=$n restart: the attributes or callbacks differ from the uninterrupted run"
        diff <(echo "$want") <(echo "$got") | head -8
    else
        pass "np=$n: $(echo "$want" | wc -l) lines as uninterrupted over two restarts: $(grep '^done: copies' <<<"$want")"
    fi
done
exit $fail
