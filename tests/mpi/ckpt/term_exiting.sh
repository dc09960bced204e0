#!/bin/bash
# term_exiting.sh FLAVOR: snapshots of a job whose ranks have threads that end with every signal
# blocked (term_exiting.c: an AIO helper of MPI-IO idle after each step's write and close, ending
# 1 s after it; detached threads started and ended every 2 ms). glibc ends such a thread with
# every signal blocked and then takes ld.so's thread-stack lock, which a rank's checkpoint holds
# from before its park (pml_ldso_freeze): before, such a thread could neither end nor be parked,
# and the capture failed after the park's 30 s ("thread N (term_exiting-ompi) blocks every
# signal": ck_io-ompi once in CI's repro, session 15; here every snapshot taken less than 1 s
# after a step's write). For 2 ranks, paced: a snapshot that continues must commit, then one
# with --term, and restart-mpi of that one must give the uninterrupted run's lines, no process
# left.
flavor=$1
. "$(dirname "$0")/../mpienv.sh" || exit $?
. "$(dirname "$0")/ckptenv.sh" || exit $?
ck_prog term_exiting
export REVIVE_RESTART_RANK=$restarter
n=2 steps=40 ms=200
ck_workdir exiting
mkdir nat run
run_native "$n" "$prog" $steps "$d/nat" >native.out 2>native.err ||
    { failed "the native run: status $?"; tail -n 3 native.err; exit 1; }
touch pace
clean timeout -k 5 600 "$wrapper" -am ft-enable-cr --ckpt-dir "$d" -n "$n" "$prog" $steps "$d/run" \
    "$d/pace" $ms >out.0 2>err.0 &
job=$!; pids+=($job)
wait_steps out.0 3 $job || { failed "no steps before the first snapshot"; tail -n 4 err.0; rm -f pace; exit 1; }
t0=$(date +%s)
if ref1=$(checkpoint $job cont); then
    pass "a snapshot that continues committed after $(nsteps out.0) steps in $(($(date +%s) - t0)) s: $ref1"
else
    failed "a snapshot that continues did not commit: $(tail -n 2 ckpt.cont.err | tr '\n' ' ')"
fi
k=$(nsteps out.0)
wait_steps out.0 $((k + 2)) $job || { failed "no steps after the first snapshot"; tail -n 4 err.0; rm -f pace; exit 1; }
if ! term_restart $job; then
    failed "ckpt-mpirun --term did not commit: $(tail -n 2 ckpt.term.err | tr '\n' ' ')"
else
    restart_verdict --term
fi
left=$(no_strays "$d/") || { failed "processes left: $left"; kill -KILL $(awk '{print $1}' <<<"$left") 2>/dev/null; }
exit $fail
