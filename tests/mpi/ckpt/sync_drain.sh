#!/bin/bash
# sync_drain.sh FLAVOR: synchronous sends whose messages a snapshot's drain took complete only
# once the receiving application matched them (campaign-failures.md #36), in the job that runs on
# and in a job restarted from the snapshot. sync_drain.c: rank 0's MPI_Issend (small, 256 KiB,
# to itself) and started MPI_Ssend_init are in flight at each of 2 MPIX_Checkpoint calls; after
# each, MPI_Test, MPI_Request_get_status, MPI_Testany, MPI_Testsome and MPI_Testall must say not
# complete until rank 1 has received them (the drain completed them in the lower half: every one
# said complete, "(COMPLETE TOO EARLY)"), and MPI_Waitall must complete them once it has (the
# receiver's notice on the fresh lower half after a restart). The job's output, and that of a
# restart from each sequence K (rounds K on), must equal the uninterrupted native run's. 2 and 3 ranks.
flavor=$1
. "$(dirname "$0")/../mpienv.sh" || exit $?
. "$(dirname "$0")/ckptenv.sh" || exit $?
ck_prog sync_drain
rounds=2
ck_bad='TOO EARLY' # the program's word that a synchronous send completed before its receive
for n in ${SYNC_DRAIN_NPS:-2 3}; do
    ck_workdir np$n
    ck_rounds "$n" 300 $rounds $rounds &&
        pass "np=$n: synchronous sends the drain took stayed incomplete until received, in the job that ran on and in restarts from sequences $seqs: output as native ($(wc -l <native.out) lines)"
    left=$(no_strays "$d/") || failed "np=$n: processes left: $left"
done
exit $fail
