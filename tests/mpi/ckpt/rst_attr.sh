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
ck_prog rst_attr
steps=6
nps="1 2 4"
[ "$flavor" = ompi ] && nps="2 4"
for n in $nps; do
    two_restarts "$n" $steps 2 4 || continue
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
