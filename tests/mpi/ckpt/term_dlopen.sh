#!/bin/bash
# term_dlopen.sh FLAVOR: "ckpt-mpirun --term" of a job one of whose threads keeps loading and
# unloading a library (term_dlopen.c), so the capture very likely parks it inside dlopen or
# dlclose, owning ld.so's loader lock. Before (campaign-failures.md #21): the agent then waited for
# ever in dlsym (the rank's facts sent before CAPTURED: the checkpoint never committed); without
# that, the lower MPI_Finalize waited in dlclose (MPICH: hwloc's plugins; Open MPI: its
# components) and the coordinator had to end the job; and the snapshot could not be restarted
# ("ld.so's loader lock 0 was held at the checkpoint"). Now a capture that finds the lock held is
# tried again (capture.c). For 2 ranks: the snapshot commits, the job ends by itself (the
# coordinator's REVIVE_TERM_WAIT, 5 s here, never needed), restart-mpi of it gives the
# uninterrupted run's lines, no process is left.
flavor=$1
# every hwloc plugin, as on a user's machine (make check leaves OpenCL's out: Makefile.am)
unset HWLOC_COMPONENTS
. "$(dirname "$0")/../mpienv.sh" || exit $?
. "$(dirname "$0")/ckptenv.sh" || exit $?
CKPT=$REVIVE_BUILDDIR/tools/snapc/ckpt-mpirun
RESTART=$REVIVE_BUILDDIR/tools/snapc/restart-mpi
prog=$REVIVE_BUILDDIR/tests/mpi/ckpt/term_dlopen-$flavor
[ -x "$CKPT" ] && [ -x "$RESTART" ] && [ -x "$prog" ] || { echo "SKIP: ckpt-mpirun, restart-mpi or $prog not built"; exit 77; }
export REVIVE_RESTART_RANK=$restarter REVIVE_TERM_WAIT=5
n=2 steps=60 ms=200
ck_workdir termdl
run_native "$n" "$prog" $steps >native.out 2>native.err ||
    { failed "the native run: status $?"; tail -n 3 native.err; exit 1; }
touch pace
clean timeout -k 5 600 "$wrapper" -am ft-enable-cr --ckpt-dir "$d" -n "$n" "$prog" $steps \
    "$d/pace" $ms >out.0 2>err.0 &
job=$!; pids+=($job)
wait_steps out.0 3 $job || { failed "no steps before the checkpoint"; tail -n 4 err.0; exit 1; }
if ! term_restart $job; then
    failed "ckpt-mpirun --term did not commit: $(tail -n 2 ckpt.term.err | tr '\n' ' ')"
    exit 1
fi
pass "the --term snapshot committed after $(nsteps out.0) steps: $ref"
if grep -q 'did not end after its checkpoint' err.0; then
    failed "the job did not end by itself after the snapshot: $(grep -m1 'did not end' err.0)"
else
    pass "the job ended by itself after the snapshot"
fi
restart_verdict --term
left=$(no_strays "$d/") || failed "processes left: $left"
exit $fail
