#!/bin/bash
# rst_heldlock.sh FLAVOR: a thread held after a snapshot holds no lock the rank then needs.
# rst_heldlock.c (2 ranks) holds an MPI_Win_allocate window, so the application's threads are
# held after a --term capture (while the rank stages its image and finalizes) and in the
# restarted rank (until every rank's window memory is back), and a thread of its own allocates
# and frees 8 KiB blocks without pause. With MALLOC_ARENA_MAX=1 every thread shares one malloc
# arena, and a capture that parked that thread inside malloc left the arena locked for the
# agent's own allocations: before the capture tried again in that case (src/pml_hooks/capture.c,
# pml_arena_locked), --term hung or failed ("the job ended during the checkpoint") in 3 of 3
# cycles on Open MPI and 1 of 3 on MPICH. Three cycles (paced_term_cycle: native run, --term
# after step 2, restart-mpi; results as uninterrupted), no process left.
flavor=$1
. "$(dirname "$0")/../mpienv.sh" || exit $?
. "$(dirname "$0")/ckptenv.sh" || exit $?
ck_prog rst_heldlock
export REVIVE_RESTART_RANK=$restarter MALLOC_ARENA_MAX=1
steps=30 ms=100
for c in 1 2 3; do
    ck_workdir cycle$c
    paced_term_cycle "cycle $c: 2 ranks, one malloc arena, a thread in malloc without pause" 2 || continue
    left=$(no_strays "$d/") || failed "cycle $c: processes left: $left"
done
exit $fail
