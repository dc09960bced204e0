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
prog=$REVIVE_BUILDDIR/tests/mpi/ckpt/rst_legacy-$flavor
[ -x "$prog" ] || { echo "SKIP: $prog not built"; exit 77; }
steps=6
for n in 1 2 4; do
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
