#!/bin/bash
# rst_winenv.sh FLAVOR: a restart refused because this restart cannot bring a window's memory
# back (the fresh MPI laid it out otherwise, or its addresses were taken: the snapshot is fine)
# is the environment's refusal, not the snapshot's failure. rst_pscw at 2 ranks (an
# MPI_Win_allocate window on MPI_COMM_WORLD: the library's memory) with fault point
# mpi-winremap-refused (a restarted odd rank finds the fresh memory cannot be seen at the
# program's addresses), ended by "ckpt-mpirun --term" after its first step; restart-mpi of the
# snapshot fails (non-zero) saying it was refused, with rank 1's reason, and that the snapshot is
# not marked as failed; the job's index is unchanged (restart-mpi of the directory takes this
# snapshot again), and no process is left. Before, the restored rank's own layer failed the
# replay and the snapshot was recorded as failed in its index.
flavor=$1
export REVIVE_MPI_TIMEOUT=${REVIVE_MPI_TIMEOUT:-240}
. "$(dirname "$0")/../mpienv.sh" || exit $?
. "$(dirname "$0")/ckptenv.sh" || exit $?
ck_prog rst_pscw
export REVIVE_RESTART_RANK=$restarter
ck_workdir env
touch pace
REVIVE_FAULT=mpi-winremap-refused clean timeout -k 5 600 "$wrapper" -am ft-enable-cr --ckpt-dir "$d" \
    -n 2 "$prog" 20 "$d/pace" 150 >out.0 2>err.0 &
job=$!; pids+=($job)
wait_steps out.0 1 $job || { rm -f pace; failed "no step before the checkpoint"; tail -n 4 err.0; exit 1; }
ref=$(checkpoint $job term --term) ||
    { rm -f pace; wait $job; failed "ckpt-mpirun --term: $(tail -n 2 ckpt.term.err | tr '\n' ' ')"; exit 1; }
wait $job
rm -f pace
jd=$(dirname "$ref")
cp -p "$jd/index" index.keep
clean timeout -k 5 600 "$RESTART" "$ref" >out.1 2>err.1; rc=$?
if [ $rc = 0 ]; then
    failed "restart-mpi with the fault point: status 0"; show_err err.1
elif ! grep -q "was refused: rank 1: .*fault point mpi-winremap-refused.*the snapshot itself is fine.*not marked as failed" err.1; then
    failed "restart-mpi (status $rc) did not say the restart was refused, with rank 1's reason, and the snapshot not marked"
    show_err err.1
elif grep -q "recorded in its index" err.1 || ! cmp -s index.keep "$jd/index"; then
    failed "the snapshot was recorded as failed: $(grep failed_reason "$jd/index" | cut -c1-200)"
    show_err err.1
else
    pass "refused by this restart (status $rc), not marked: $(grep -m1 'was refused' err.1 | cut -c1-220)..."
fi
left=$(no_strays "$d") || failed "processes left: $left"
exit $fail
