#!/bin/bash
# term_threads.sh FLAVOR: "ckpt-mpirun --term" of a job one of whose threads keeps starting threads
# on fresh stacks (term_threads.c: one every 20 ms, the oldest of 24 alive joined), with
# REVIVE_FAULT=mpi-freeze-late: each rank's checkpoint hook waits 300 ms between listing the
# rank's memory by half and taking ld.so's thread-stack lock, so threads started in between are
# surely on ld.so's lists and in the image. Before (campaign-failures.md #33, restart_opts-mpich
# in CI): the restart rebuilt ld.so's lists without them (their stacks were not in the listing),
# glibc joined them through neighbours no longer there, and ld.so's list of threads ran into its
# stack cache: the restarted rank's fresh dlmopen (MPI's lower half, or the program's own
# load of a second libc) walked it for ever at full speed. Now every descriptor the image holds
# is linked back. For 2 ranks: the snapshot commits, restart-mpi of it gives the uninterrupted
# run's lines (and the dlmopen five steps before the end returns), within 240 s, no process left.
flavor=$1
. "$(dirname "$0")/../mpienv.sh" || exit $?
. "$(dirname "$0")/ckptenv.sh" || exit $?
ck_prog term_threads
export REVIVE_RESTART_RANK=$restarter REVIVE_TERM_WAIT=5
n=2 steps=40 ms=200
ck_workdir termth
run_native "$n" "$prog" $steps >native.out 2>native.err ||
    { failed "the native run: status $?"; tail -n 3 native.err; exit 1; }
fx=()
[ "$flavor" = ompi ] && fx=(-x REVIVE_FAULT)
touch pace
REVIVE_FAULT=mpi-freeze-late clean timeout -k 5 600 "$wrapper" -am ft-enable-cr --ckpt-dir "$d" \
    -n "$n" "${fx[@]}" "$prog" $steps "$d/pace" $ms >out.0 2>err.0 &
job=$!; pids+=($job)
wait_steps out.0 3 $job || { failed "no steps before the checkpoint"; tail -n 4 err.0; exit 1; }
ref=$(checkpoint $job term --term) ||
    { failed "ckpt-mpirun --term did not commit: $(tail -n 2 ckpt.term.err | tr '\n' ' ')"; exit 1; }
wait $job
pass "the --term snapshot committed after $(nsteps out.0) steps: $ref"
# the restart is bounded well below the test's own: a rank spinning in ld.so never ends by itself
rm -f pace
# (empty: Open MPI's launcher, told to pass it on by the job's recorded options, would warn)
REVIVE_FAULT= clean timeout -k 5 240 "$RESTART" "$ref" >out.1 2>err.1; rc=$?
results out.0 out.1 >both.out
[ $rc = 124 ] && failed "the restart did not end within 240 s (a rank spinning in ld.so?)"
restart_verdict --term
grep -q "dlmopen of a second libc failed" err.1 && failed "$(grep -m1 'dlmopen of a second' err.1)"
left=$(no_strays "$d/") || { failed "processes left: $left"; kill -KILL $(awk '{print $1}' <<<"$left") 2>/dev/null; }
exit $fail
