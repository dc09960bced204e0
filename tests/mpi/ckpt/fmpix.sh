#!/bin/bash
# fmpix.sh FLAVOR: MPIX_CHECKPOINT and MPIX_CHECKPOINT_REQUEST from Fortran (include/mpix_ckptf.h,
# src/snapc/mpix_fortran.c). fmpix.f, fixed form with mpif.h (the strictest form of the include
# file), is built with the MPI's own mpif90 against libmpix_ckpt. At 2 ranks:
#  - natively (plain launcher, no Revive) both calls give a non-zero IERROR, FLAG 0, and the job
#    runs to its end;
#  - under "mpirun -am ft-enable-cr --ckpt-dir D" MPIX_CHECKPOINT gives IERROR 0 and FLAG 0
#    (MPIX_CKPT_CONTINUE), the step sums are the native run's, MPIX_CHECKPOINT_REQUEST gives 0;
#  - restart-mpi of that snapshot (the one MPIX_CHECKPOINT took: a run without "req") returns from
#    MPIX_CHECKPOINT with FLAG 1 (MPIX_CKPT_RESTARTED) and prints the native run's steps 4 to 6.
# Skipped only when the Fortran compiler or binding is absent (../fortenv.sh).
flavor=$1
. "$(dirname "$0")/../mpienv.sh" || exit $?
. "$(dirname "$0")/ckptenv.sh" || exit $?
. "$(dirname "$0")/../fortenv.sh" || exit $?
fort_compiler
lib=$REVIVE_BUILDDIR/.libs
[ -r "$lib/libmpix_ckpt.so" ] || { echo "SKIP: $lib/libmpix_ckpt.so not built"; exit 77; }
fort_build "fmpix.f" "$tmp/fmpix" -O1 -I"$REVIVE_SRCDIR/include" "$REVIVE_SRCDIR/tests/mpi/ckpt/fmpix.f" \
    -L"$lib" -lmpix_ckpt -Wl,-rpath,"$lib"
prog=$tmp/fmpix
steps() { grep '^step ' "$@"; }
ck_workdir np2
run_native 2 "$prog" req >native.out 2>native.err; rc=$?
if [ $rc != 0 ]; then
    failed "native: status $rc"; show_err native.err
elif ! grep -qx 'checkpoint: ierror [1-9][0-9]* flag 0' native.out ||
    ! grep -qx 'request: ierror [1-9][0-9]*' native.out || [ "$(steps native.out | wc -l)" != 6 ]; then
    failed "native: MPIX_CHECKPOINT should give a non-zero IERROR and FLAG 0, the request a" \
        "non-zero IERROR, and all 6 steps run:"; sed 's/^/   | /' native.out
else
    pass "native: both calls say no (IERROR $(sed -n 's/^request: ierror //p' native.out)), flag 0, 6 steps"
fi
mkdir -p req
clean timeout -k 5 600 "$wrapper" -am ft-enable-cr --ckpt-dir "$d/req" -n 2 "$prog" req >req.out 2>req.err; rc=$?
if [ $rc != 0 ] || ! grep -qx 'request: ierror 0' req.out || ! cmp -s <(steps native.out) <(steps req.out); then
    failed "under Revive with the request: status $rc, output:"; sed 's/^/   | /' req.out; show_err req.err
else
    pass "under Revive: MPIX_CHECKPOINT_REQUEST gives IERROR 0, the 6 step sums are the native run's"
fi
mkdir -p snaps
clean timeout -k 5 600 "$wrapper" -am ft-enable-cr --ckpt-dir "$d/snaps" -n 2 "$prog" >out.0 2>err.0; rc=$?
if [ $rc != 0 ] || ! grep -qx 'checkpoint: ierror 0 flag 0' out.0 || ! cmp -s <(steps native.out) <(steps out.0); then
    failed "under Revive: status $rc; MPIX_CHECKPOINT should give IERROR 0 FLAG 0 and the native sums:"
    sed 's/^/   | /' out.0; show_err err.0
else
    pass "under Revive: MPIX_CHECKPOINT gives IERROR 0 and FLAG 0 (MPIX_CKPT_CONTINUE), sums as native"
fi
job=$(ls -d snaps/revive_global_snapshot_*.ckpt 2>/dev/null | head -n 1)
if [ -z "$job" ]; then
    failed "no snapshot directory in $d/snaps after MPIX_CHECKPOINT"
else
    clean timeout -k 5 600 "$RESTART" "$job" >out.1 2>err.1; rc=$?
    if [ $rc != 0 ]; then
        failed "restart-mpi $job: status $rc"; show_err err.1
    elif ! grep -qx 'checkpoint: ierror 0 flag 1' out.1; then
        failed "the restarted job's MPIX_CHECKPOINT should give IERROR 0 and FLAG 1:"; sed 's/^/   | /' out.1
    elif ! cmp -s <(steps native.out | tail -n 3) <(steps out.1); then
        failed "the restarted job's steps differ from the native run's steps 4 to 6:"
        diff <(steps native.out | tail -n 3) <(steps out.1) | head
    else
        pass "restart-mpi: MPIX_CHECKPOINT returns FLAG 1 (MPIX_CKPT_RESTARTED), steps 4-6 as native"
    fi
fi
left=$(no_strays "$d/") || failed "processes left: $left"
exit $fail
