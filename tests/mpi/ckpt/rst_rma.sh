#!/bin/bash
# rst_rma.sh FLAVOR: one-sided windows across a restart. rst_rma uses a window of each kind
# (create with fence epochs, allocate under lock_all, allocate_shared with loads and stores
# through pointers the program kept, dynamic with an attached region under a shared lock),
# checkpoints itself at step 3 (pml_restart_capture, as restart.sh) with a fence epoch open and
# the locks held, and ends as if killed; the same number of ranks started as
# revive-restart-rank SNAPSHOT carry on with the windows Revive made again (the memory of each,
# the epochs and locks, the shared segment at the addresses the program knew), checkpoint again
# at step 5 and end; a second restart, from the restarted job's images, finishes. At 1, 2 and 4
# ranks (Open MPI: 2 and 4): the step lines (a checksum of every rank's windows) and the final
# line (the window's name, the flavors and addresses the program is told) equal an
# uninterrupted native run's.
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
if [ "$flavor" = ompi ]; then
    nps="2 4"
    echo "NOT RUN: np=1 on Open MPI with every kind (its MPI_Win_create fails on one rank, natively too)"
    # its MPI_Win_allocate on one rank is heap memory: the job goes on from the snapshot, and a
    # restart from it is refused on every rank, naming the window's memory
    d=$tmp/np1
    mkdir -p "$d"
    RST_RMA_ALLOCATE_ONLY=1 clean timeout -k 5 "$TMO" "$wrapper" -am ft-enable-cr -n 1 -x RST_RMA_ALLOCATE_ONLY \
        "$prog" $steps "$d" 3 >"$d/orig.out" 2>"$d/orig.err"; rc=$?
    RST_RMA_ALLOCATE_ONLY=1 run_native 1 -x RST_RMA_ALLOCATE_ONLY "$prog" $steps >"$d/native.out" 2>&1
    if [ $rc != 0 ] || [ ! -f "$d/s3/rank_0.img" ] || [ "$(results "$d/orig.out")" != "$(results "$d/native.out")" ]; then
        failed "np=1, MPI_Win_allocate only: the job did not go on from its snapshot as uninterrupted (status $rc)"
        tail -4 "$d/orig.err"
    else
        restart_job 1 "$d/s3" >"$d/r.out" 2>"$d/r.err"; rc=$?
        if [ $rc != 0 ] && grep -q 'was not a shared mapping at the snapshot' "$d/r.err" &&
            ! grep -q '^step 4' "$d/r.out"; then
            pass "np=1, MPI_Win_allocate only: the job went on; its restart refused: $(grep -m1 -o 'record entry.*' "$d/r.err" | cut -c1-200)"
        else
            failed "np=1, MPI_Win_allocate only: the restart was not refused as it should (status $rc)"
            tail -4 "$d/r.err"
        fi
    fi
fi
for n in $nps; do
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
exit $fail
