#!/bin/bash
# sync_later.sh FLAVOR: a synchronous send followed by a send of another kind on the same
# (receiver, communicator, tag) at a snapshot (owed.c: the sends posted after a pending
# synchronous send). sync_later.c: rank 0's MPI_Issend A, which rank 1 matched before the
# snapshot (its acknowledgement still to reach rank 0's layer), then an eager send B on the same
# tag (MPI_Send, MPI_Isend, a started MPI_Send_init, MPI_Bsend by the round) that the drain took:
# rank 0's MPI_Wait on A must return before rank 1 receives B (before: A was taken for the drained
# message, owed a notice that never came, the job hung); MPI_Issend C then eager D on another
# tag, both drained: C completes once rank 1 received C, before it receives D (before: D's
# receive owed C's notice, the job hung). The job's output, and that of a restart from each
# sequence K (rounds K on), must equal the uninterrupted native run's; each run bounded by a
# timeout (a hang: FAIL). 2 ranks, 4 rounds, an MPIX_Checkpoint each.
flavor=$1
. "$(dirname "$0")/../mpienv.sh" || exit $?
. "$(dirname "$0")/ckptenv.sh" || exit $?
ck_prog sync_later
rounds=4
n=2
ck_bad='TOO EARLY' # the program's word that a synchronous send completed before its receive
ck_workdir np$n
ck_rounds "$n" 120 $rounds $rounds &&
    pass "a synchronous send matched before the snapshot completed though a later send on its tag was drained, and one drained completed at its own receive, in the job that ran on and in restarts from sequences $seqs: output as native ($(wc -l <native.out) lines)"
left=$(no_strays "$d/") || failed "processes left: $left"
exit $fail
