#!/bin/bash
# rst_legacy.sh FLAVOR: the MPI-1 calls that MPI-2 deprecated and MPI-3 removed (MPI_Attr_get/
# put/delete, MPI_Keyval_create/free, MPI_Errhandler_create/set/get, MPI_Address,
# MPI_Type_struct/hvector/hindexed, MPI_Type_extent/lb/ub), which both libraries still export and
# the layer used to stop with "not supported", and keyvals freed while attributes still use them
# (the standard keeps such a keyval until its last attribute is deleted; the layer forgot it, so
# a restart lost those attributes and their callbacks), across two restarts. rst_legacy
# checkpoints itself at step 2 (pml_restart_capture, as rst_attr.sh) and ends as if killed; the
# restarted job checkpoints again at step 4 and ends; a second restart finishes (the freed
# keyvals' last attributes deleted with their communicators). The step and final lines equal an
# uninterrupted native run's. At 1, 2 and 4 ranks.
flavor=$1
export REVIVE_MPI_TIMEOUT=${REVIVE_MPI_TIMEOUT:-240}
. "$(dirname "$0")/../mpienv.sh" || exit $?
. "$(dirname "$0")/ckptenv.sh" || exit $?
ck_prog rst_legacy
steps=6
for n in 1 2 4; do
    two_restarts "$n" $steps 2 4 || continue
    want=$(grep -hE '^(setup: |step [0-9]+: |done: )' "$d/native.out")
    got=$(grep -hE '^(setup: |step [0-9]+: |done: )' "$d/orig.out" "$d/r1.out" "$d/r.out")
    if [ $rc != 0 ]; then
        failed "np=$n restart: status $rc"; grep -v '^$' "$d/r.err" | tail -6 | sed 's/^/  /'
    elif [ -z "$want" ] || [ "$want" != "$got" ] || ! grep -q "wrong 0; keyval freed 1" <<<"$want" ||
        ! grep -q "^setup: freed keyvals invalid 1, numbers reused 0" <<<"$want" ||
        ! grep -q "last deletes of freed keyvals $((4 * n)) " <<<"$want"; then
        failed "np=$n restart: the output differs from the uninterrupted run (or the run is wrong)"
        diff <(echo "$want") <(echo "$got") | head -8
        [ -n "$want" ] || tail -3 "$d/native.err"
    else
        pass "np=$n: $(echo "$want" | wc -l) lines as uninterrupted over two restarts: $(grep '^done: ' <<<"$want")"
    fi
done
exit $fail
