#!/bin/bash
# stop_unsup.sh FLAVOR: a checkpoint asked while a rank stops the job on a call Revive does not
# support is refused, naming the rank and the call; no snapshot is committed (newuser12 F1 HIGH:
# a job calling MPI_Comm_spawn, checkpointed during the stop's pause before its MPI_Abort, got a
# committed snapshot, "every image matches", and each restart died of SIGSEGV or in MPI_Abort "before
# MPI_INIT": the restarted rank resumed inside the stop on a library no restart had initialised).
# The stop's pause is made up to 20 s (fault point mpi-stop-slow) and the checkpoint asked once the
# rank has said it stops the job; 1 rank (as F1: the checkpoint needs no other rank) and 2. The
# pause ends once the refusal is made: the job ends within 10 s of it (a fixed 20 s pause cost
# this test 20 s a job, start47).
flavor=$1
. "$(dirname "$0")/../mpienv.sh" || exit $?
. "$(dirname "$0")/ckptenv.sh" || exit $?
ck_workdir stopunsup
ck_build_src stop_unsup
for np in 1 2; do
    REVIVE_FAULT=mpi-stop-slow clean timeout -k 5 300 "$wrapper" -am ft-enable-cr --ckpt-dir "$d" -n $np \
        "$prog" 100000 "$d/go.$np" >out.$np 2>err.$np &
    job=$!; pids+=($job)
    if ! wait_steps out.$np 2 $job; then
        wait $job; failed "the job did not reach step 2: $(tail -n 2 err.$np)"; exit 1
    fi
    touch go.$np
    if ! wait_for_job 60 $job 'grep -q "MPI_Comm_spawn is not supported under Revive" err.$np'; then
        wait $job; failed "rank 0 did not say it stops the job: $(tail -n 2 err.$np)"; exit 1
    fi
    if ref=$(checkpoint $job stop$np); then
        failed "$np ranks: a checkpoint while rank 0 stops the job (MPI_Comm_spawn) committed $ref"
    else
        refused stop$np "$np ranks: a checkpoint while rank 0 stops the job (MPI_Comm_spawn)" \
            "rank 0 is stopping the job (MPI_Comm_spawn is not supported under Revive)"
    fi
    t_refused=$SECONDS
    wait $job; rc=$?
    [ $((SECONDS - t_refused)) -le 10 ] ||
        failed "$np ranks: the job ended $((SECONDS - t_refused)) s after the refusal, not at once"
    [ $rc != 0 ] || failed "$np ranks: the job stopped by MPI_Comm_spawn ended with status 0"
    grep -q '^spawned' out.$np && failed "$np ranks: the job went on after MPI_Comm_spawn"
    committed=$(find "$d" -name snapshot.meta -newer go.$np 2>/dev/null | head -3)
    [ -z "$committed" ] || failed "$np ranks: a snapshot was committed: $committed"
    no_strays "$prog" || failed "$np ranks: ranks of the stopped job are left"
done
exit $fail
