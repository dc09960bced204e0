#!/bin/bash
# rst_winold.sh FLAVOR (Open MPI only: MPICH's windows of one rank are the layer's memory): a
# snapshot holding Open MPI windows of one rank whose memory is the MPI library's heap, as every
# Revive before 0122f2d left them (here made so by fault point mpi-winmem-unarmed: the layer does
# not arm the lower half's root; and mpi-winpriv-commit: the checkpoint is not refused, as by a
# Revive before newuser7f F1), is refused by restart-mpi's check before anything is launched, in
# one line that names the rank, says why (no restart can put the window back at its address) and
# what to do; restart-mpi exits 1 (with --no-verify too) and leaves no process; ckpt-info
# --verify says the same of the sequence (status 1, "cannot be restarted") and its index line
# "restart-mpi refuses" it: one rule judges a sequence (tools/snapc/seq_pick.c). The job is
# rst_winfree (every rank holds a window of MPI_COMM_SELF, rank 1 makes and frees more) at 2
# ranks, ended by "ckpt-mpirun --term" while rank 1 makes windows. Before: the check was
# ckpt-info's alone, outside the rule: its index line said "restart-mpi takes N" of the sequence
# it had just called unrestartable, and restart-mpi launched the job for each rank's
# revive-restart-rank to refuse it after the launch (advice39; and before 0122f2d's check, the
# restored ranks' own layer refused it after a fresh MPI, saying only that the memory "was not a
# shared mapping at the snapshot": that Revive's own words, checked by hand;
# tools/restart_wincheck.c).
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
why="rank [01]: its image holds an MPI window (allocate, 1 rank(s), 4096 bytes at 0x[0-9a-f]*) whose memory .* no restart can put it back at the address the program knows"
for v in "" --no-verify; do
    clean timeout -k 5 600 "$RESTART" $v "$ref" >out.1 2>err.1; rc=$?
    if [ $rc = 0 ]; then
        failed "restart-mpi $v of a snapshot with a window in the library's heap: status 0"; show_err err.1
    elif ! grep -q "^restart-mpi: $ref cannot be restarted: $why; .*holds no other committed sequence" err.1; then
        failed "restart-mpi $v refused it (status $rc) without saying why and what to do in one line of its check's"; show_err err.1
    elif grep -q "^revive-restart-rank\|restarted (generation\|was not a shared mapping" err.1; then
        failed "restart-mpi $v launched the job before the refusal"; show_err err.1
    elif [ "$(grep -c . err.1)" != 1 ]; then
        failed "restart-mpi $v said more than one line"; show_err err.1
    else
        pass "restart-mpi $v refused it before any launch (status $rc): $(cut -c1-200 err.1)..."
    fi
done
clean timeout -k 5 600 "$INFO" --verify "${ref%/*}" >info.out 2>info.err; rc=$?
if [ $rc != 1 ]; then
    failed "ckpt-info --verify of the snapshot directory: status $rc, expected 1"; show_err info.err
elif ! grep -q "cannot be restarted: $why" info.err; then
    failed "ckpt-info --verify did not say why the sequence cannot be restarted"; show_err info.err
elif ! grep -q "^index .*restart-mpi refuses ${ref##*/} " info.out; then
    failed "ckpt-info --verify's index line does not say restart-mpi refuses ${ref##*/}: $(grep '^index' info.out)"
else
    pass "ckpt-info --verify: cannot be restarted (status 1), its index line: restart-mpi refuses ${ref##*/}"
fi
left=$(no_strays "$d") || failed "processes left: $left"
exit $fail
