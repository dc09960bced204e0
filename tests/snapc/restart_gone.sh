#!/bin/bash
# The snapshot directory removed during a restart, after every rank has read its image (issue 7,
# review8 R3): the restarted job runs on, and the outcome is one clear line saying the snapshot
# it came from is gone; before, the coordinator warned "cannot clear the failed restart recorded
# for REF: cannot read DIR: No such file or directory" though no failed restart was recorded, and
# the restarted job's first commit warned that the jobs it came from "are not marked superseded".
# A job of fake ranks whose rank 0 starts its agent only once the file go exists (fake_rank
# --start-file, kept in the image): checkpointed with --term, go removed, restarted; once both
# ranks' restore is reported (the restart's "restored" file) the snapshot directory is removed
# and go made; the restarted job is checkpointed with --term, and its snapshot checked.
# Then a running job's snapshot directory removed (newuser7 L5): the next checkpoint says it is
# gone and what to do; re-created as said, the next one commits.
. "$(dirname "$0")/lib.sh"
snapc_workdir snapc-restart-gone
export REVIVE_RESTART_RANK=$FRANK REVIVE_COORD_BIN=$COORD

touch "$W/go"
start_job a 2 --iters $UNTIL_KILLED --sleep-us 500 --start-file "0:$W/go"
expect_rc 0 "--term" "$CKPT" --term $JOB && ref=$(tail -n1 "$W/cmd.out")
wait $JOB
jd=$(dirname "${ref:-/nonexistent/0}")
[ -d "$jd" ] || { fail "no snapshot: '${ref:-}'"; finish; }
rm -f "$W/go"
"$RESTART" "$ref" >"$W/r.out" 2>"$W/r.err" &
rp=$!; jobs_started="$jobs_started $rp"
if wait_for 60 '[ "$(cat "$jd"/.restart.*/restored 2>/dev/null | grep -c restored)" = 2 ]'; then
    rm -rf "$jd"
    touch "$W/go"
    expect_rc 0 "a checkpoint of the restarted job" "$CKPT" --wait --term $rp &&
        nref=$(tail -n1 "$W/cmd.out")
    wait $rp; rc=$?
    [ $rc = 0 ] || fail "restart-mpi: status $rc"
    [ -f "${nref:-/nonexistent}/snapshot.meta" ] || fail "the restarted job's snapshot: '${nref:-}'"
    grep -E "cannot clear|not marked superseded" "$W/r.err" && fail "a stray warning (above)"
    n=$(grep -c "$ref, the snapshot this job was restarted from, was removed during the restart, after every rank had read its image; the job runs on" "$W/r.err")
    [ "$n" = 1 ] || fail "$n lines say the snapshot was removed, not 1:"$'\n'"$(cat "$W/r.err")"
    [ "$(grep -c "^revive:" "$W/r.err")" = 1 ] ||
        fail "more than Revive's one line:"$'\n'"$(grep "^revive:" "$W/r.err")"
    pass "the snapshot removed after the ranks read it: one line, the job runs on and checkpoints"
else
    fail "the ranks' restore was not reported: $(cat "$W/r.err")"
fi

# The snapshot directory of a running job removed (review newuser7 L5: every later checkpoint
# said "cannot create DIR/1: No such file or directory", no remedy): the next checkpoint says the
# directory is gone and what to do; re-created 0700 as it says, the next one commits there.
start_job b 2 --iters $UNTIL_KILLED --sleep-us 500
bjd=$W/revive_global_snapshot_$JOB.ckpt
expect_rc 0 "a snapshot of job b" "$CKPT" $JOB
rm -rf "$bjd"
expect_rc 1 "a checkpoint once the snapshot directory is gone" "$CKPT" $JOB &&
    err_has "the job's snapshot directory $bjd is gone (removed while the job runs, with the snapshots it held): re-create it (mkdir -m 700 $bjd) and the next checkpoint is written there"
kill -0 $JOB 2>/dev/null || fail "job b ended"
mkdir -m 700 "$bjd"
expect_rc 0 "a checkpoint once it is re-created" "$CKPT" $JOB && bref=$(tail -n1 "$W/cmd.out")
[ -f "${bref:-/nonexistent}/snapshot.meta" ] || fail "no snapshot in the re-created directory: '${bref:-}'"
# the running job's lock is taken again in the re-created directory: without it a restart's cache
# cleanup takes the job for ended and removes its node-local sequences (diffrev27 I-M2)
if [ ! -f "$bjd/.alive" ]; then
    fail "no .alive lock in the re-created snapshot directory of the running job"
elif flock -n "$bjd/.alive" true; then
    fail "the re-created snapshot directory's .alive is not locked while the job runs"
fi
kill -TERM $JOB; wait $JOB
pass "the snapshot directory of a running job removed: said, and re-created as said it works"
finish
