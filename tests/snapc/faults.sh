#!/bin/bash
# Commit durability: a failure at every step of the coordinator (fault points), a rank failing
# or dying (kill -9) at every step of its side, and the coordinator killed before the rename:
# no snapshot.meta for the failed sequence (it is removed or never offered), the previous
# sequence intact (ckpt-info --verify), one clear message, the job running on unless the
# failure ended it, and no stray process.
. "$(dirname "$0")/lib.sh"
snapc_workdir snapc-faults
L=$TMPDIR/revive-local-$(id -u)

# sequence 0 is good; then the fault: sequence 1 is not committed
check_intact() { # JOBDIR WHAT
    "$INFO" --verify "$1/0" >"$W/verify.out" 2>&1 || { fail "$2: sequence 0 damaged"; cat "$W/verify.out"; }
    [ -f "$1/1/snapshot.meta" ] && fail "$2: sequence 1 has a snapshot.meta"
    "$INFO" "$1" >"$W/list.out" 2>&1
    grep -q "^$1/1$" "$W/list.out" && ! grep -q "not committed" "$W/list.out" && fail "$2: sequence 1 is offered"
    return 0
}

for f in snapc-seq-dir snapc-targets snapc-quiesce snapc-captured snapc-meta-write snapc-rank-capture; do
    REVIVE_FAULT=$f REVIVE_FAULT_EPOCH=2 start_job $f 3 --iters $UNTIL_KILLED --sleep-us 300
    jd=$W/revive_global_snapshot_$JOB.ckpt
    expect_rc 0 "$f: the first snapshot" "$CKPT" $JOB
    expect_rc 1 "$f: the second snapshot" "$CKPT" $JOB && err_has "no checkpoint: "
    grep -q "fault point $f" "$W/cmd.err" || { fail "$f: the message does not name the fault"; cat "$W/cmd.err"; }
    [ "$(grep -c . "$W/cmd.err")" = 1 ] || { fail "$f: more than one line"; cat "$W/cmd.err"; }
    # gone, or (node-local first: every image was in the nodes' caches) kept and marked failed
    [ -d "$jd/1" ] && [ ! -f "$jd/1/staging.failed" ] &&
        fail "$f: the failed sequence directory is left, not marked failed"
    check_intact "$jd" $f
    # a failed sequence leaves nothing in the node's cache: at a failure at the ranks' capture
    # (before any staging) the ranks remove what they made for it at the ABORT (newuser12 LOW);
    # from snapc-captured on every image was captured, the sequence failed as a staging does: the
    # coordinator removes its host's copies before it says so, the ranks theirs as they hear it
    # (before, mend42/43 e1: they stayed until the next checkpoint began)
    wait_for 10 '[ ! -e "$L/$(basename "$jd")/1" ]' ||
        fail "$f: the failed sequence stays in the node's cache: $(ls -A "$L/$(basename "$jd")/1" | tr '\n' ' ')"
    kill -0 $JOB || fail "$f: the job ended"
    # the ranks were released: they still run collectives (a snapshot again fails the same way)
    expect_rc 1 "$f: again" "$CKPT" $JOB
    kill -TERM $JOB; wait $JOB
    pass "$f"
done

# a job's first checkpoint fails at the ranks' capture: nothing of the job is left in the node's
# cache (newuser12 LOW: an empty LOCAL/<job>/0 stayed, its .jobdir naming a snapshot directory
# that was never made, until the 7-day collection); the job runs on
REVIVE_FAULT=snapc-rank-capture REVIVE_FAULT_EPOCH=1 start_job first 3 --iters $UNTIL_KILLED --sleep-us 300
jd=$W/revive_global_snapshot_$JOB.ckpt
expect_rc 1 "snapc-rank-capture at the first checkpoint" "$CKPT" $JOB && err_has "no checkpoint: "
wait_for 10 '[ ! -e "$L/$(basename "$jd")" ]' ||
    fail "the first checkpoint failed, and the job's cache folder stays: $(cd "$L/$(basename "$jd")" && ls -A . * | tr '\n' ' ')"
kill -0 $JOB || fail "snapc-rank-capture at the first checkpoint: the job ended"
kill -TERM $JOB; wait $JOB
wait_no_strays
pass "a failed first checkpoint leaves nothing in the node's cache"

# the index cannot be rewritten after the commit: the snapshot stays committed
REVIVE_FAULT=snapc-index REVIVE_FAULT_EPOCH=2 start_job idx 2 --iters $UNTIL_KILLED --sleep-us 300
jd=$W/revive_global_snapshot_$JOB.ckpt
expect_rc 0 "snapc-index: first" "$CKPT" $JOB
expect_rc 0 "snapc-index: second (committed anyway)" "$CKPT" $JOB
"$INFO" --verify "$jd/1" >/dev/null 2>&1 || fail "snapc-index: sequence 1 is not committed"
grep -q "the index was not updated" "$W/idx.err" || fail "snapc-index: no warning"
kill -TERM $JOB; wait $JOB
pass "snapc-index"

# the coordinator killed after flushing the temporary snapshot.meta, before the rename: the
# launcher and the ranks end with it, the sequence is never offered
REVIVE_FAULT=snapc-coord-kill REVIVE_FAULT_EPOCH=2 start_job kill 3 --iters $UNTIL_KILLED --sleep-us 300
jd=$W/revive_global_snapshot_$JOB.ckpt
expect_rc 0 "snapc-coord-kill: first" "$CKPT" $JOB
expect_rc 1 "snapc-coord-kill: second" "$CKPT" $JOB && err_has "closed the connection without an answer"
wait $JOB
st=$?
[ $st = 137 ] || fail "snapc-coord-kill: the coordinator's status $st"
wait_no_strays
check_intact "$jd" snapc-coord-kill
ls -a "$jd/1" | grep -q "snapshot.meta.tmp" || echo "note: no temporary snapshot.meta left"
pass "snapc-coord-kill"

# a rank fails (disk full) or dies (kill -9) at every step of its side
for op in quiesce drain capture; do
    start_job fail-$op 3 --iters $UNTIL_KILLED --sleep-us 300 --fail 1:$op
    expect_rc 1 "rank failure in $op" "$CKPT" $JOB && err_has "no checkpoint: rank 1 could not"
    [ -d "$W/revive_global_snapshot_$JOB.ckpt/0" ] &&
        { fail "$op failure: the sequence is left"; ls -la "$W/revive_global_snapshot_$JOB.ckpt/0"; tail -5 "$W/fail-$op.err"; }
    kill -0 $JOB || fail "$op failure: the job ended"
    kill -TERM $JOB; wait $JOB
done
pass "a rank's failure at quiesce, drain, capture"
# ... and after the job's end nothing of it is left in the node's cache (the job's end removes
# its folders of sequences that failed: also an empty one, made for the image of a rank that died
# before writing it, the only rank of its host then; before, it stayed with the job's folder and
# its .jobdir, as nobody on that host could drop them); "only" is a 1-rank job
for op in begin seqs targets quiesce drain capture only; do
    if [ $op = only ]; then
        start_job die-$op 1 --iters $UNTIL_KILLED --sleep-us 300 --die 0:capture
    else
        start_job die-$op 4 --iters $UNTIL_KILLED --sleep-us 300 --die 2:$op
    fi
    # (the launcher kills the other ranks at once: the first loss seen may be any rank)
    expect_rc 1 "rank death in $op" "$CKPT" $JOB && err_has "ended during the checkpoint"
    job_gone $JOB 60 || fail "$op death: the job did not end"
    wait $JOB
    [ -d "$W/revive_global_snapshot_$JOB.ckpt/0" ] &&
        { fail "$op death: the sequence is left"; ls -la "$W/revive_global_snapshot_$JOB.ckpt/0"; tail -5 "$W/die-$op.err"; }
    ls -a "$W/revive_global_snapshot_$JOB.ckpt" 2>/dev/null | grep -q '^\.discarded' &&
        fail "$op death: a hidden discarded directory is left after the job"
    [ ! -e "$L/revive_global_snapshot_$JOB.ckpt" ] ||
        fail "$op death: the job's node-local cache folder is left after the job: $(cd "$L/revive_global_snapshot_$JOB.ckpt" && ls -A . * | tr '\n' ' ')"
    wait_no_strays
done
pass "a rank killed at begin, seqs, targets, quiesce, drain, capture (also a job's only rank): nothing left in the cache"

# kill -9 of the other participants while rank 0 writes its image (held there while hold
# exists, released after the kill: a fixed 3 s pause cost every checkpoint of these jobs):
# ckpt-mpirun, the real launcher, the coordinator (mpirun's pid)
slow=(--iters $UNTIL_KILLED --sleep-us 300 --hold "0:capture:$W/hold")
# the tool: the epoch goes on without it, the job runs on, the next request commits
start_job k-tool 3 "${slow[@]}"
touch "$W/hold"
"$CKPT" --status $JOB >"$W/kt.out" 2>"$W/kt.err" & tool=$!
wait_for 60 'grep -q "] Drained" "$W/kt.err"' || fail "tool kill: the epoch did not reach Drained"
kill -KILL $tool; wait $tool 2>/dev/null
rm -f "$W/hold"
jd=$W/revive_global_snapshot_$JOB.ckpt
expect_rc 0 "tool kill: the next request" "$CKPT" --wait $JOB && consistent "$(tail -n1 "$W/cmd.out")" 3
[ ! -d "$jd/0" ] || "$INFO" --verify "$jd/0" >/dev/null 2>&1 || fail "tool kill: sequence 0 is there but does not verify"
kill -0 $JOB || fail "tool kill: the job ended"
kill -TERM $JOB; wait $JOB
# the launcher: no checkpoint, the job ends, the ranks it left are killed by the coordinator
start_job k-launcher 3 "${slow[@]}"
expect_rc 0 "launcher kill: a first snapshot" "$CKPT" $JOB
touch "$W/hold"
"$CKPT" --status $JOB >"$W/kl.out" 2>"$W/kl.err" & tool=$!
wait_for 60 'grep -q "] Drained" "$W/kl.err"' || fail "launcher kill: the epoch did not reach Drained"
kill -KILL "$(launcher_of $JOB)"
rm -f "$W/hold"   # rank 0's capture goes on, as after its 3 s pause before
wait $tool; rc=$?
[ $rc = 1 ] && grep -q "no checkpoint: the job ended during the checkpoint\|no checkpoint: rank .* ended during the checkpoint" "$W/kl.err" ||
    { fail "launcher kill: ckpt-mpirun status $rc"; cat "$W/kl.err"; }
job_gone $JOB 60 || fail "launcher kill: the coordinator did not end"
wait $JOB
jd=$W/revive_global_snapshot_$JOB.ckpt
[ -e "$jd/1" ] && fail "launcher kill: the failed sequence is left"
"$INFO" --verify "$jd/0" >/dev/null 2>&1 || fail "launcher kill: sequence 0 damaged"
wait_no_strays
# the coordinator: the launcher and the ranks end with it; the sequence is never offered
start_job k-coord 3 "${slow[@]}"
expect_rc 0 "coordinator kill: a first snapshot" "$CKPT" $JOB
touch "$W/hold"
"$CKPT" --status $JOB >"$W/kc.out" 2>"$W/kc.err" & tool=$!
wait_for 60 'grep -q "] Drained" "$W/kc.err"' || fail "coordinator kill: the epoch did not reach Drained"
kill -KILL $JOB
rm -f "$W/hold"
wait $tool; rc=$?
[ $rc = 1 ] && grep -q "closed the connection without an answer" "$W/kc.err" ||
    { fail "coordinator kill: ckpt-mpirun status $rc"; cat "$W/kc.err"; }
wait $JOB
wait_no_strays
check_intact "$W/revive_global_snapshot_$JOB.ckpt" "coordinator kill"
pass "kill -9 of ckpt-mpirun, of the launcher, of the coordinator during a checkpoint"
finish
