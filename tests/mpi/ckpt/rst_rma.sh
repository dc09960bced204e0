#!/bin/bash
# rst_rma.sh FLAVOR: one-sided windows across a restart. rst_rma uses a window of each kind
# (create with fence epochs, allocate under lock_all, allocate_shared with loads and stores
# through pointers the program kept, dynamic with an attached region under a shared lock; Put,
# Get and accumulates on each), checkpoints itself at step 3 (pml_restart_capture, as
# restart.sh) with a fence epoch open and the locks held, and ends as if killed; the same number
# of ranks started as revive-restart-rank SNAPSHOT carry on with the windows Revive made again
# (the memory of each, the epochs and locks, the shared segment at the addresses the program
# knew), checkpoint again at step 5 and end; a second restart, from the restarted job's images,
# finishes. At 1, 2 and 4 ranks: the step lines (a checksum of every rank's windows) and the
# final line (the window's name, the flavors and addresses the program is told) equal an
# uninterrupted native run's. Then at 1 rank the same with global snapshots: MPIX_Checkpoint at
# step 2 in a job of mpirun -am ft-enable-cr that runs on to its end, restart-mpi of that
# snapshot (which checkpoints again at step 4 and runs to its end), restart-mpi of the second;
# each job's lines from its start or restart on equal the uninterrupted run's.
# Open MPI makes no MPI_Win_create or MPI_Win_create_dynamic window on one rank (natively
# neither): there np=1 uses the allocate and shared windows only, whose memory Open MPI takes
# from its heap (Revive serves it from a shared mapping while the window is made; before that,
# a restart from such a snapshot was refused).
# Open MPI's MPI_Win_create needs single-copy transfers (natively too): CMA, as rma-ompi.sh.
flavor=$1
[ "$flavor" = ompi ] && export REVIVE_TEST_SINGLE_COPY=cma
# each run is bounded; 30 s (mpienv's default) was too short for a 4-rank restart at CI's load
# (the restarted job was killed by the timeout before its snapshot, silently)
export REVIVE_MPI_TIMEOUT=${REVIVE_MPI_TIMEOUT:-240}
. "$(dirname "$0")/../mpienv.sh" || exit $?
. "$(dirname "$0")/ckptenv.sh" || exit $?
ck_prog rst_rma
steps=7
nps="1 2 4"
# one_rank N: Open MPI's np=1 runs the allocate and shared windows only (the ranks of a local
# job see the launcher's environment; a restarted rank has its image's)
one_rank() {
    if [ "$1" = 1 ] && [ "$flavor" = ompi ]; then export RST_RMA_ALLOCATE_ONLY=1; else unset RST_RMA_ALLOCATE_ONLY; fi
}
for n in $nps; do
    one_rank "$n"
    two_restarts "$n" $steps 3 5 || continue
    want=$(results "$d/native.out")
    got=$(results "$d/orig.out" "$d/r1.out" "$d/r.out")
    if [ $rc != 0 ]; then
        failed "np=$n restart: status $rc"; grep -v '^$' "$d/r.err" | tail -6 | sed 's/^/  /'
    elif [ -z "$want" ] || [ "$want" != "$got" ] || ! grep -q "^done: .*as given" <<<"$want"; then
        failed "np=$n restart: the windows differ from the uninterrupted run"
        diff <(echo "$want") <(echo "$got") | head -8
    else
        pass "np=$n: $(echo "$want" | wc -l) lines as uninterrupted over two restarts ($(grep -c . <<<"$(results "$d/r1.out")") + $(grep -c . <<<"$(results "$d/r.out")") lines after them): $(tail -1 <<<"$want")"
    fi
done
# At 1 rank with global snapshots (MPIX_Checkpoint, restart-mpi): generation 0 runs to its end
# with a snapshot at step 2; generation 1, restarted from it, takes one at step 4; generation 2
# is restarted from that one.
export REVIVE_RESTART_RANK=$restarter
n=1
one_rank $n
ck_workdir mpix$n
run_native $n "$prog" $steps >native.out 2>native.err
clean timeout -k 5 "$TMO" "$wrapper" -am ft-enable-cr --ckpt-dir "$d" -n $n "$prog" $steps mpix 2,4 \
    >out.0 2>err.0; rc=$?
a=$(ls -d "$d"/revive_global_snapshot_*.ckpt 2>/dev/null)
b=
if [ $rc != 0 ] || [ "$(echo "$a" | grep -c .)" != 1 ]; then
    failed "np=$n, MPIX_Checkpoint: generation 0: status $rc, snapshots: ${a:-none}"; show_err err.0
else
    clean timeout -k 5 "$TMO" "$RESTART" "$a" >out.1 2>err.1; rc=$?
    b=$(ls -d "$d"/revive_global_snapshot_*.ckpt | grep -vxF "$a")
    if [ $rc != 0 ] || ! grep -q "restarted at step 2" err.1 || [ "$(echo "$b" | grep -c .)" != 1 ]; then
        failed "np=$n, MPIX_Checkpoint: generation 1 (restart-mpi): status $rc, snapshots beside the first: ${b:-none}"
        show_err err.1; b=
    fi
fi
if [ -n "$b" ]; then
    clean timeout -k 5 "$TMO" "$RESTART" "$b" >out.2 2>err.2; rc=$?
    want=$(results native.out)
    w1=$(sed -n '/^step 3:/,$p' <<<"$want") w2=$(sed -n '/^step 5:/,$p' <<<"$want")
    if [ $rc != 0 ] || ! grep -q "restarted at step 4" err.2; then
        failed "np=$n, MPIX_Checkpoint: generation 2 (restart-mpi of the restarted job's snapshot): status $rc"
        show_err err.2
    elif [ -z "$w2" ] || ! grep -q "^done: .*as given" <<<"$want" || [ "$want" != "$(results out.0)" ] ||
        [ "$w1" != "$(results out.1)" ] || [ "$w2" != "$(results out.2)" ]; then
        failed "np=$n, MPIX_Checkpoint: a generation's lines differ from the uninterrupted run's"
        diff <(echo "$want") <(results out.0) | head -4; diff <(echo "$w1") <(results out.1) | head -4
        diff <(echo "$w2") <(results out.2) | head -4
    else
        pass "np=$n, MPIX_Checkpoint: generations 0, 1 (from step 2) and 2 (from step 4) as uninterrupted: $(tail -1 <<<"$want")"
    fi
fi
exit $fail
