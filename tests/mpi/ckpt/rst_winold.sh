#!/bin/bash
# rst_winold.sh FLAVOR (Open MPI only: MPICH's windows of one rank are the layer's memory): a
# snapshot holding Open MPI windows of one rank whose memory is the MPI library's heap, as every
# Revive before 0122f2d left them (here made so by fault point mpi-winmem-unarmed: the layer does
# not arm the lower half's root; and mpi-winpriv-commit: the checkpoint is not refused, as by a
# Revive before newuser7f F1), is refused by restart-mpi before any rank's restore, in one
# line per rank that says why (no restart can put the window back at its address) and what to
# do; restart-mpi exits non-zero, records the snapshot as failed, and leaves no process. The job
# is rst_winfree (every rank holds a window of MPI_COMM_SELF, rank 1 makes and frees more) at
# 2 ranks, ended by "ckpt-mpirun --term" while rank 1 makes windows. Before, the restored
# ranks' own layer refused it after a fresh MPI, saying only that the memory "was not a shared
# mapping at the snapshot" (for a snapshot of a Revive before 0122f2d: that Revive's own
# words, checked by hand; tools/restart_wincheck.c).
flavor=$1
. "$(dirname "$0")/../mpienv.sh" || exit $?
. "$(dirname "$0")/ckptenv.sh" || exit $?
[ "$flavor" = ompi ] || { echo "SKIP: only Open MPI keeps a window of one rank in its heap"; exit 77; }
ck_prog rst_winfree
export REVIVE_RESTART_RANK=$restarter
ck_workdir old
REVIVE_FAULT=mpi-winmem-unarmed,mpi-winpriv-commit clean timeout -k 5 600 "$wrapper" -am ft-enable-cr --ckpt-dir "$d" -n 2 \
    "$prog" "$d" free >out.0 2>err.0 &
job=$!; pids+=($job)
wait_for_job 120 $job '[ -e looping ]' || { failed "rank 1 did not start its rounds: $(tail -n 3 err.0)"; exit 1; }
ref=$(checkpoint $job term --term) || { failed "ckpt-mpirun --term: $(tail -n 2 ckpt.term.err)"; exit 1; }
wait $job
touch end
clean timeout -k 5 600 "$RESTART" "$ref" >out.1 2>err.1; rc=$?
why="its image holds an MPI window (allocate, 1 rank(s), 4096 bytes at 0x[0-9a-f]*) whose memory .* no restart can put it back at the address the program knows, so this snapshot cannot be restarted\. Restart from an earlier snapshot"
if [ $rc = 0 ]; then
    failed "restart-mpi of a snapshot with a window in the library's heap: status 0"; show_err err.1
elif ! grep -q "^revive-restart-rank: rank [01]: $why" err.1; then
    failed "restart-mpi refused it (status $rc) without saying why in one line of the rank's"; show_err err.1
elif grep -q "restarted (generation\|was not a shared mapping" err.1; then
    failed "the refusal came after a rank's restore"; show_err err.1
elif ! grep -q "recorded in its index" err.1; then
    failed "restart-mpi did not record the snapshot as failed"; show_err err.1
else
    pass "refused before the restore (status $rc): $(grep -m1 '^revive-restart-rank: rank' err.1 | cut -c1-160)..."
fi
left=$(no_strays "$d") || failed "processes left: $left"
exit $fail
