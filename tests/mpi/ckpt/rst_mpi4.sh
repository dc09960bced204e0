#!/bin/bash
# rst_mpi4.sh FLAVOR: MPI-4 requests across global snapshots and two restarts (MPICH 4.0; Open MPI
# 4.1 has no MPI-4). rst_mpi4 calls MPIX_Checkpoint at step 2 with MPI_Isendrecv,
# MPI_Isendrecv_c (its receive's message sent only after the snapshot) and
# MPI_Isendrecv_replace in flight, a persistent MPI_Allreduce_init request active and two others
# (MPI_Bcast_init_c, MPI_Neighbor_allgather_init) inactive. The job runs on to its end
# (generation 0); restart-mpi of that snapshot goes on from step 2 and, restarted, checkpoints
# again at step 4 (generation 1); restart-mpi of that second snapshot goes on from step 4
# (generation 2). At 1, 2 and 4 ranks (REVIVE_TEST_QUICK=1: 1 and 2) every generation's step
# lines from its restart on must equal an uninterrupted native run's, and no process may be left.
# Each job must take the one snapshot its MPIX_Checkpoint asked for, and no other epoch may begin
# ('no checkpoint' on its messages): at 1 rank the coordinator began a second epoch after each
# MPIX_Checkpoint's, which took a second snapshot later in the run now and then under load
# (restart-mpi took that one: the restarted job did not come back in MPIX_Checkpoint).
# rst_mpi4.sh FLAVOR rst_mpi4b runs rst_mpi4b.c the same way: MPI_Request_free and MPI_Cancel of
# active MPI_Isendrecv requests and a persistent MPI_Alltoallw_init with a datatype per peer
# (freed after the init) in flight at the snapshots.
# rst_mpi4.sh FLAVOR rst_bsend (both MPIs: no MPI-4 in it) runs rst_bsend.c: buffers attached,
# used by MPI_Bsend and detached before each snapshot, one kept attached across it; a restart
# must not attach the detached ones again (MPICH wrote its header into them: the program's data
# changed, a freed one's malloc links broken, SIGSEGV; CI of 8aaf7ad, cc_persist).
# rst_mpi4.sh FLAVOR rst_mpit (both MPIs) runs rst_mpit.c: MPI_T initialised before MPI_Init, a
# control variable written before MPI_Init and at step 3, read every step through a handle made
# before MPI_Init, a pvar session (and on Open MPI a started pvar handle bound to MPI_COMM_WORLD)
# kept open across the snapshots, MPI_T finalized after MPI_Finalize (MPICH); before mpit.c every
# MPI_T call stopped the job (newuser12 F2).
# rst_mpi4.sh FLAVOR rst_scratch (both MPIs) runs rst_scratch.c: a scratch file (MPI_MODE_DELETE_ON_CLOSE)
# open at both snapshots and deleted by each job's close; each restart must find it as it was.
# rst_mpi4.sh FLAVOR rst_greq (both MPIs) runs rst_greq.c: generalized requests pending, complete
# and not waited on, cancelled, freed before completion and waited on by a helper thread in
# MPI_Wait at each snapshot (MPI_THREAD_MULTIPLE), completed with the ring's requests in
# MPI_Waitany and MPI_Testsome afterwards.
flavor=$1
. "$(dirname "$0")/../mpienv.sh" || exit $?
. "$(dirname "$0")/ckptenv.sh" || exit $?
ck_prog "${2:-rst_mpi4}"
export REVIVE_RESTART_RANK=$restarter
steps=7
nps="1 2 4"
[ "${REVIVE_TEST_QUICK:-0}" = 1 ] && nps="1 2"
# rst_mpi4b not at 1 rank: there its ring is the rank itself, and MPICH 4.0.2 natively loses a
# send to itself whose request was freed (MPI_Isend, MPI_Request_free, then MPI_Recv of it
# never returns; measured), which rst_mpi4b's freed pair does
[ "${2:-}" = rst_mpi4b ] && nps=${nps#1 }
snaps() { ls -d "$d"/revive_global_snapshot_*.ckpt 2>/dev/null; }
# extra JOBDIR ERR GEN: a FAIL line when JOBDIR holds more than its one sequence or ERR says an
# epoch ended without a snapshot (an epoch nobody asked for)
extra() {
    local k
    k=$(ls "$1" | grep -cx '[0-9]*')
    if [ "$k" != 1 ] || grep -q 'no checkpoint' "$2"; then
        failed "np=$n: generation $3 asked for one snapshot and holds sequences $(ls "$1" | grep -x '[0-9]*' | tr '\n' ' ')$(grep -m1 'no checkpoint' "$2" | sed 's/^/; another epoch: /')"
        return 0
    fi
    return 1
}
for n in $nps; do
    ck_workdir np$n
    run_native "$n" "$prog" $steps 2 4 >native.out 2>native.err ||
        { failed "np=$n: the native run: status $?"; tail -n 3 native.err; continue; }
    clean timeout -k 5 600 "$wrapper" -am ft-enable-cr --ckpt-dir "$d" -n "$n" "$prog" $steps 2 4 \
        >out.0 2>err.0; rc=$?
    a=$(snaps)
    if [ $rc != 0 ] || [ "$(echo "$a" | grep -c .)" != 1 ]; then
        failed "np=$n: generation 0: status $rc, snapshots: ${a:-none}"; show_err err.0; continue
    fi
    if ! cmp -s <(results native.out) <(results out.0); then
        failed "np=$n: generation 0 (checkpointed, not restarted) differs from the native run"
        diff <(results native.out) <(results out.0) | head -6; continue
    fi
    extra "$a" err.0 0 && continue
    clean timeout -k 5 600 "$RESTART" "$a" >out.1 2>err.1; rc=$?
    b=$(snaps | grep -vxF "$a")
    if [ $rc != 0 ] || ! grep -q "restarted at step 2" err.1 || [ "$(echo "$b" | grep -c .)" != 1 ]; then
        failed "np=$n: generation 1: status $rc, snapshots beside the first: ${b:-none}"; show_err err.1; continue
    fi
    extra "$b" err.1 1 && continue
    clean timeout -k 5 600 "$RESTART" "$b" >out.2 2>err.2; rc=$?
    if [ $rc != 0 ] || ! grep -q "restarted at step 4" err.2; then
        failed "np=$n: generation 2: status $rc"; show_err err.2; continue
    fi
    if grep -q 'no checkpoint' err.2; then
        failed "np=$n: generation 2 (no MPIX_Checkpoint) began an epoch: $(grep -m1 'no checkpoint' err.2)"; continue
    fi
    w1=$(results native.out | sed -n '/^step 2:/,$p') w2=$(results native.out | sed -n '/^step 4:/,$p')
    if [ -z "$w2" ] || [ "$w1" != "$(results out.1)" ] || [ "$w2" != "$(results out.2)" ]; then
        failed "np=$n: a restarted generation's lines differ from the uninterrupted run's"
        diff <(echo "$w1") <(results out.1) | head -4; diff <(echo "$w2") <(results out.2) | head -4
    else
        pass "np=$n: generations 0, 1 (from step 2) and 2 (from step 4, a restarted job's snapshot) as uninterrupted: $(results out.2 | tail -n 2 | tr '\n' ' ')"
    fi
    left=$(no_strays "$d/") || failed "np=$n: processes left: $left"
done
exit $fail
