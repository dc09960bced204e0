#!/bin/bash
# nohup_hup.sh FLAVOR: a nohup'd job (SIGHUP ignored, standard input not a terminal) under
# "mpirun -am ft-enable-cr", and a nohup'd restart-mpi of its snapshot, each sent a SIGHUP to its
# process group (what bash sends each of its jobs at a logout) once the job printed a step: both
# run to their end, status 0, with the uninterrupted run's results (newuser7b M4: with Open MPI
# both ended, status 1: Open MPI's mpirun sets its own SIGHUP handler even when SIGHUP was
# ignored, natively too; MPICH's jobs ran on). Without nohup, the same SIGHUP to the group ends
# the job with status 129 and leaves no process.
flavor=$1
export REVIVE_MPI_TIMEOUT=${REVIVE_MPI_TIMEOUT:-240}
. "$(dirname "$0")/../mpienv.sh" || exit $?
. "$(dirname "$0")/ckptenv.sh" || exit $?
np=2 steps=30 ms=150
ck_workdir hup
run_native $np "$prog" $steps --pace "$d/nopace" $ms >native.out 2>native.err ||
    { failed "the native run: status $?"; tail -n 3 native.err; exit 1; }
# as `nohup CMD &` from a script: SIGHUP ignored, a session of its own (the group a logout's
# SIGHUP goes to), only descriptors 0-2 open, standard input /dev/null; $! is CMD's pid
# (plain_py: the same without nohup, SIGHUP at its default even when the suite itself runs
# under nohup, whose ignored SIGHUP every child inherits)
nohup_py='import os, signal, sys; signal.signal(signal.SIGHUP, signal.SIG_IGN); os.setsid(); os.closerange(3, 65536); os.execvp(sys.argv[1], sys.argv[1:])'
plain_py='import os, signal, sys; signal.signal(signal.SIGHUP, signal.SIG_DFL); os.setsid(); os.closerange(3, 65536); os.execvp(sys.argv[1], sys.argv[1:])'
touch pace
# 1. the nohup'd launch, SIGHUP to its group at its second step, then a --term snapshot
(exec python3 -c "$nohup_py" "$wrapper" -am ft-enable-cr --ckpt-dir "$d" -n $np "$prog" $steps \
    --pace "$d/pace" $ms </dev/null >out.0 2>err.0) &
job=$!; pids+=($job)
if ! wait_steps out.0 2 $job; then
    rm -f pace; wait $job; failed "the nohup'd job printed no step (status $?)"; show_err err.0; exit 1
fi
kill -HUP -- -$job
wait_steps out.0 4 $job 120
if ! kill -0 $job 2>/dev/null; then
    wait $job; failed "the nohup'd job ended on a SIGHUP to its group (status $?, $(nsteps out.0) steps)"
    show_err err.0; exit 1
fi
pass "the nohup'd job runs on after a SIGHUP to its process group ($(nsteps out.0) steps)"
if ! ref=$(checkpoint $job snap --term); then
    rm -f pace; wait $job; failed "ckpt-mpirun --term: $(tail -n 2 ckpt.snap.err)"; exit 1
fi
wait $job
rm -f pace
# 2. the nohup'd restart, SIGHUP to its group once it printed a step
(exec python3 -c "$nohup_py" "$RESTART" "$ref" </dev/null >out.1 2>err.1) &
r=$!; pids+=($r)
if wait_steps out.1 1 $r; then
    kill -HUP -- -$r 2>/dev/null
    echo "SIGHUP to the nohup'd restart-mpi's group after $(nsteps out.1) steps"
fi
wait $r; rc=$?
results out.0 out.1 >both.out
restart_verdict "the nohup'd restart sent a SIGHUP to its group"
# 3. without nohup, the same SIGHUP ends the job: 129, nothing left
touch pace
(exec python3 -c "$plain_py" "$wrapper" -am ft-enable-cr --ckpt-dir "$d" -n $np "$prog" $steps \
    --pace "$d/pace" $ms </dev/null >out.2 2>err.2) &
job=$!; pids+=($job)
if wait_steps out.2 1 $job; then
    kill -HUP -- -$job
    wait $job; st=$?
    if [ $st = 129 ] && no_strays "$d/pace" >strays.txt; then
        pass "without nohup a SIGHUP to the group ends the job: status 129, nothing left"
    else
        failed "without nohup, SIGHUP to the group: status $st (want 129); left: $(cat strays.txt)"
    fi
else
    wait $job; failed "the job without nohup printed no step (status $?)"; show_err err.2
fi
rm -f pace
exit $fail
