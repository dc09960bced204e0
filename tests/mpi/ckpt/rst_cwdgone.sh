#!/bin/bash
# rst_cwdgone.sh FLAVOR: a restart refused by the job's surroundings is not the snapshot's
# failure (newuser14 F2). A job runs in a folder of its own (RUN), its snapshots elsewhere
# (--ckpt-dir KEEP, as a batch job keeps them off a purged scratch), the program outside both;
# two snapshots (sequence 0 while it runs, sequence 1 with --term). Then RUN is removed:
#   restart-mpi of the snapshot directory is refused (status non-zero, "cannot return to the
#   working directory RUN", "refused ... not marked as failed"), the index unchanged, no process
#   left; RUN made again, restart-mpi takes sequence 1 still (before the fix: sequence 1 was
#   marked failed and the next default restart went back to sequence 0, redoing its steps) and
#   runs to the native run's result.
flavor=$1
. "$(dirname "$0")/../mpienv.sh" || exit $?
. "$(dirname "$0")/ckptenv.sh" || exit $?
ck_prog rst_prog
export REVIVE_RESTART_RANK=$restarter
n=2 steps=400 ms=150
case $flavor in
ompi) opt=(--oversubscribe) ;;
*) opt=(-launcher fork) ;;
esac
ck_workdir cwdgone
run=$d/run keep=$d/keep
mkdir -p "$run" "$keep"
touch "$d/pace"
run_native "$n" "$prog" $steps >native.out 2>native.err ||
    { failed "the native run: status $?"; tail -n 3 native.err; exit 1; }
cd "$run" || exit 1
clean timeout -k 5 600 "$wrapper" -am ft-enable-cr "${opt[@]}" --ckpt-dir "$keep" -n "$n" "$prog" \
    $steps --pace "$d/pace" $ms >"$d/out.0" 2>"$d/err.0" &
job=$!; pids+=($job)
cd "$d" || exit 1
two_snapshots $job
cp -p "$jd/index" index.keep

# the working folder gone: refused, not marked
rm -rf "$run"
clean timeout -k 5 300 "$RESTART" "$jd" >gone.out 2>gone.err; rc=$?
if [ $rc = 0 ] || [ $rc = 124 ] || ! grep -q "cannot return to the working directory $run" gone.err; then
    failed "the working folder gone: status $rc, no rank said it cannot return to $run"; tail -n 4 gone.err
elif ! grep -q -- "$jd/1 was refused: .*not marked as failed" gone.err; then
    failed "the working folder gone: the restart is not said refused, not marked"; tail -n 4 gone.err
elif ! cmp -s index.keep "$jd/index"; then
    failed "the working folder gone: the index changed: $(grep failed "$jd/index")"
else
    pass "the working folder gone: status $rc, refused, the snapshot not marked as failed"
fi
results gone.out | grep -q . && failed "the refused restart printed results: $(results gone.out | head -n 2)"
strays_after "the working folder gone"

# made again: sequence 1 still, to the native result
mkdir -p "$run"
"$RESTART" --showme "$jd" >show.1 2>&1; rc=$?
[ $rc = 0 ] && grep -qF "$restarter $jd/1" show.1 && ! grep -q "skipping sequence 1" show.1 ||
    failed "the folder made again: restart-mpi would not take sequence 1: status $rc: $(cut -c1-300 show.1)"
rm -f "$d/pace"
clean timeout -k 5 600 "$RESTART" "$jd" >out.1 2>err.1; rc=$?
k=$(results out.1 | grep -c .)
if [ $rc = 0 ] && [ "$k" -gt 1 ] && ! grep -q "skipping sequence 1" err.1 &&
    cmp -s <(results native.out | tail -n "$k") <(results out.1); then
    pass "the folder made again: sequence 1 restarted, its $k result lines as uninterrupted"
else
    failed "the folder made again: status $rc, $k result lines"; tail -n 4 err.1
fi
strays_after "the folder made again"
exit $fail
