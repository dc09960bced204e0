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
finish
