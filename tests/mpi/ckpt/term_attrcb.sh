#!/bin/bash
# term_attrcb.sh FLAVOR: "ckpt-mpirun --term" of a job whose ranks hold attributes with delete
# callbacks on MPI_COMM_SELF, MPI_COMM_WORLD and a window (term_attrcb.c: each callback prints a
# line and appends it to a file, as HDF5 closes its files from its MPI_COMM_SELF callback). The
# give-back after the capture (the window freed, MPI_Finalize) must run none of them: the ended
# job's output and the file hold no callback line (newuser7c F1: they held 6, at the snapshot's
# step, on both MPIs). Then restart-mpi runs the job to its end: its callbacks run once each, at
# the last step, as in an uninterrupted run (lines and file compared), both generations' step
# lines are the uninterrupted run's, and no process is left.
# The ranks also hold error handlers of the program's own (MPI_COMM_WORLD, MPI_COMM_SELF, the
# window, an open MPI file), and the --term'd job runs with REVIVE_FAULT=mpi-term-errors: its
# give-back raises an error through each (each rank's stderr says how many: 4, checked, so that
# a fault point that did not fire cannot pass), and none of them may run either. Without the quiet
# switch of b123d79 (rank_ops.c's pml_attr_quiet_begin, eh_tramp.c's check) the ended job printed
# them: the error-handler half of newuser7c F1, untested until session 35.
# term_attrcb.sh FLAVOR term_fattrcb: the same from Fortran (term_fattrcb.f90, built with the MPI's
# mpif90: keyvals of MPI_COMM_CREATE_KEYVAL and MPI_WIN_CREATE_KEYVAL with Fortran delete
# callbacks, a Fortran error handler on both communicators, so 2 raised a rank). Skipped only when
# the Fortran compiler or binding is absent (../fortenv.sh).
flavor=$1 name=${2:-term_attrcb}
. "$(dirname "$0")/../mpienv.sh" || exit $?
. "$(dirname "$0")/ckptenv.sh" || exit $?
if [ "$name" = term_fattrcb ]; then
    . "$(dirname "$0")/../fortenv.sh" || exit $?
    fort_compiler
    prog=$tmp/$name
    fort_build "rst_fstep.f90 + $name.f90" "$prog" -O1 "$REVIVE_SRCDIR/tests/mpi/ckpt/rst_fstep.f90" \
        "$REVIVE_SRCDIR/tests/mpi/ckpt/$name.f90"
    nraised=2
else
    ck_prog term_attrcb
    nraised=4
fi
export REVIVE_RESTART_RANK=$restarter
n=2 steps=40 ms=200
ck_workdir termcb
rm -f native.log* job.log*
callbacks() { grep -h '^callback: ' "$@" | sort; }
# logged LOG: the callbacks' lines in the file LOG, sorted (the Fortran program writes LOG.rR, a
# file per rank: its runtime's append is no O_APPEND, and two ranks' lines overwrote each other)
logged() { cat "$1" "$1".r[0-9]* 2>/dev/null | sort; }
run_native "$n" "$prog" $steps "$d/nopace" $ms "$d/native.log" >native.out 2>native.err ||
    { failed "the native run: status $?"; tail -n 3 native.err; exit 1; }
[ "$(callbacks native.out | wc -l)" = $((3 * n)) ] && cmp -s <(callbacks native.out) <(logged native.log) ||
    { failed "the native run did not print and log 3 callbacks a rank: $(callbacks native.out | tr '\n' ' ')"; exit 1; }
touch pace
REVIVE_FAULT=mpi-term-errors clean timeout -k 5 900 "$wrapper" -am ft-enable-cr --ckpt-dir "$d" -n "$n" "$prog" $steps "$d/pace" $ms \
    "$d/job.log" >out.0 2>err.0 &
job=$!; pids+=($job)
if ! wait_steps out.0 2 $job; then
    rm -f pace; wait $job
    failed "no steps before the checkpoint: status $?"; tail -n 4 err.0; exit 1
fi
if ! term_restart $job; then
    failed "ckpt-mpirun --term: $(tail -n 2 ckpt.term.err)"; exit 1
fi
# term_restart ran the restart already: what the ended job left is out.0; its log lines are
# told from the restart's by their step (the snapshot's, before the last)
raised=$(grep -c "fault point mpi-term-errors: MPI_ERR_OTHER raised through $nraised error handlers" err.0)
if [ "$raised" = "$n" ]; then
    pass "the give-back raised an error through $nraised error handlers on each of the $n ranks"
else
    failed "the fault point mpi-term-errors raised errors through $nraised handlers on $raised of $n ranks:"
    grep 'mpi-term-errors' err.0 | head -n 4 | sed 's/^/  /'
fi
late=$(callbacks out.0)
if [ -n "$late" ]; then
    failed "the job ended by --term ran the program's callbacks after the capture (stdout): $(echo "$late" | tr '\n' ' ')"
else
    pass "the job ended by --term after step $(nsteps out.0) printed no callback line"
fi
early=$(logged job.log | grep -v " at step $steps\$")
if [ -n "$early" ]; then
    failed "the job ended by --term wrote the callbacks' lines to its file after the capture: $(echo "$early" | tr '\n' ' ')"
else
    pass "the job ended by --term wrote nothing to the callbacks' file"
fi
restart_verdict "--term after step $(nsteps out.0)"
if [ $rc = 0 ]; then
    if cmp -s <(callbacks native.out) <(callbacks out.1) && cmp -s <(logged native.log) <(logged job.log); then
        pass "the restarted job ran its $((3 * n)) callbacks once each at its end, as uninterrupted (stdout and file)"
    else
        failed "the restarted job's callbacks differ from an uninterrupted run's"
        diff <(logged native.log) <(logged job.log) | head; diff <(callbacks native.out) <(callbacks out.1) | head
    fi
fi
left=$(no_strays "$d/") || failed "processes left: $left"
exit $fail
