#!/bin/bash
# rank_forkloop.sh FLAVOR: ranks that fork children in a tight loop outside MPI while snapshots
# are taken (rank_forkloop.c; issue 7: rank_child-mpich failed in CI, "cannot reopen
# /proc/330949/task/330949/syscall as descriptor 28" in the image of rank 0's worker: the agent
# read its main thread's /proc/self/task/TID/syscall while a snapshot waited for the rank outside
# MPI, and the worker forked meanwhile copied that descriptor). Any descriptor a thread of
# Revive's holds can be copied so: the fix is at the fork (src/crs/libcr/fork_guard.h).
# On 2 ranks, REVIVE_FAULT=fork-window-wide in the job (each such descriptor held 20 ms longer,
# src/common/README.md): three snapshots while the ranks fork, then --term (the ranks' running
# workers come along in their images, tree files) and restart-mpi to the end:
#   - no child of a rank held a descriptor it should not (each child looks at its own: the
#     rank's /proc files, its agent's connection and eventfd, an image; rank_forkloop.c says what
#     it may hold) in the job or in the restarted job;
#   - the restart succeeds and its results are the uninterrupted run's (the count of children
#     that held one is in them: 0).
# Before the fix every run failed (a child held the agent's connection to the coordinator and its
# eventfds, and with the wider window the agent's /proc/self/task/TID/syscall).
flavor=$1
# every hwloc plugin, as on a user's machine (make check leaves OpenCL's out: Makefile.am)
unset HWLOC_COMPONENTS
. "$(dirname "$0")/../mpienv.sh" || exit $?
. "$(dirname "$0")/ckptenv.sh" || exit $?
ck_prog rank_forkloop
steps=40 ms=120
ck_workdir rforkloop
choose=$(ranks_choose_pid)
run_native 2 "$prog" $steps "$d/nopace" 0 >native.out 2>native.err ||
    { failed "the native run: status $?"; tail -n 3 native.err; exit 1; }
if [ $choose = 0 ]; then
    echo "SKIP: snapshots of ranks with a running child (the ranks cannot choose a pid: not root, no CAP_CHECKPOINT_RESTORE)"
    exit 77
fi

# held FILE...: the children's lines naming a descriptor they should not hold
held() { grep -h 'a child forked outside MPI holds descriptor' "$@" 2>/dev/null; }

touch pace
REVIVE_FAULT=fork-window-wide clean timeout -k 5 900 "$wrapper" -am ft-enable-cr --ckpt-dir "$d" -n 2 \
    "$prog" $steps "$d/pace" $ms >out.0 2>err.0 &
job=$!; pids+=($job)
wait_steps out.0 2 $job || failed "the job did not reach step 2: $(tail -n 2 err.0)"
taken=0
for k in 1 2 3; do
    sleep 0.$((RANDOM % 9 + 1))
    if checkpoint $job k$k >/dev/null; then
        taken=$((taken + 1))
    else
        failed "snapshot $k while the ranks fork: $(grep -v 'ms from' ckpt.k$k.err | head -2)"
    fi
done
[ $taken = 3 ] && pass "3 of 3 snapshots taken while the ranks forked outside MPI (at step $(nsteps out.0) of $steps)"
if term_restart $job; then
    restart_verdict "--term with a running worker per rank, restarted"
else
    failed "ckpt-mpirun --term: $(tail -n 2 ckpt.term.err)"
fi
n=$(held err.0 err.1 | wc -l)
if [ "$n" = 0 ]; then
    pass "no child forked outside MPI held a descriptor of the rank's ($(grep -c . both.out) steps, snapshots 4)"
else
    failed "$n children forked outside MPI held a descriptor of the rank's, e.g.:"
    held err.0 err.1 | sed 's/descriptor [0-9]*/descriptor N/; s/[0-9][0-9]*/N/g' | sort | uniq -c | head -n 8
fi
left=$(no_strays "$d/") || failed "processes left: $left"
exit $fail
