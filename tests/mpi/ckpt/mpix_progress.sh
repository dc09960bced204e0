#!/bin/bash
# mpix_progress.sh FLAVOR: a rank waiting in MPIX_Checkpoint drives the MPI library's progress,
# as a native collective's wait would. mpix_progress.c: each round rank 0 posts its receives
# (1 MiB, a rendezvous; 4 ints from a started persistent send) and calls MPIX_Checkpoint; rank 1
# sends both, then calls it. Rank 1 reaches the call, the snapshot's cut, only once its sends
# completed, which needs rank 0's progress: rank 0's wait made none, the sends stalled and the
# snapshot with them (until its timeout gave up, or the run's). The job's output, and that of a
# restart from each sequence K (rounds K on), must equal the uninterrupted native run's (where
# MPIX_Checkpoint returns an error and changes nothing), 3 sequences in the job; each run bounded
# by a timeout (a hang: FAIL). 2 and 3 ranks.
flavor=$1
. "$(dirname "$0")/../mpienv.sh" || exit $?
. "$(dirname "$0")/ckptenv.sh" || exit $?
ck_prog mpix_progress
rounds=3
for n in ${MPIX_PROGRESS_NPS:-2 3}; do
    ck_workdir np$n
    ck_rounds "$n" 120 $rounds $rounds &&
        pass "np=$n: sends that needed the progress of a rank waiting in MPIX_Checkpoint completed, the job took sequences $seqs, and restarts from each printed as native ($(wc -l <native.out) lines)"
    left=$(no_strays "$d/") || failed "np=$n: processes left: $left"
done
exit $fail
