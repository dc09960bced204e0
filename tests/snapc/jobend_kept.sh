#!/bin/bash
# A failed checkpoint's images leave this node's cache at the failure (they can never be
# restarted: newuser7 F3, after a checkpoint failed on a full --ckpt-local the image another rank
# wrote stayed in that full cache, and the 'ckpt-info --clean-cache' the message named kept it;
# mend42/43 e1: they stayed until the next checkpoint began, or the job's end removed them and
# said so). Fake ranks, node-local first (the default cache): checkpoint 0 commits; checkpoint
# 1's copy to the snapshot directory fails (fault point filem-stage from epoch 2): once
# ckpt-mpirun says so, the cache holds checkpoint 0 only (the coordinator removes its own host's
# copies before it answers; the ranks' agents theirs as they hear it); the coordinator said it
# in its line. Then the job ends normally: a rank drops its node's copies at a normal end only
# after a last checkpoint that committed, so checkpoint 0's stay (a restart of it on this node
# reads them); the job's end has nothing left to remove and says nothing of kept or removed
# images. A job whose last checkpoint commits leaves nothing and says nothing (the second job).
. "$(dirname "$0")/lib.sh"
snapc_workdir snapc-jobend-kept
L=$TMPDIR/revive-local-$(id -u)
export REVIVE_FAULT=filem-stage REVIVE_FAULT_EPOCH=2
start_job e 2 --coord -- --iters 200 --sleep-us 300 --end-file "$W/e.end"
unset REVIVE_FAULT REVIVE_FAULT_EPOCH
jd=$W/revive_global_snapshot_$JOB.ckpt
expect_rc 0 "checkpoint 0 of job e (committed)" "$CKPT" $JOB
"$CKPT" $JOB >"$W/c1.out" 2>"$W/c1.err" && fail "checkpoint 1 (its staging failing) succeeded"
[ -f "$jd/1/snapshot.meta" ] && fail "checkpoint 1 is committed"
cj=$L/$(basename "$jd")
# at the failure, before the job's end
[ -z "$(find "$cj/1" 2>/dev/null)" ] ||
    fail "checkpoint 1 (not committed: it can never be restarted) stays in the cache after its failure: $(find "$cj/1" | tr '\n' ' ')"
[ -n "$(find "$cj/0" -name 'rank_*.img' 2>/dev/null)" ] || fail "checkpoint 0's images left the cache with the failed one"
grep -q "checkpoint 1 is not committed: .*its node-local copies are removed: they can never be restarted" "$W/e.err" ||
    fail "the failure does not say its node-local copies are removed: $(grep -m1 "checkpoint 1 is not committed" "$W/e.err")"
touch "$W/e.end"
job_gone $JOB 120 || fail "job e did not end"
wait $JOB; rc=$?
[ $rc = 0 ] || { fail "job e: exit status $rc"; cat "$W/e.err"; }
[ -n "$(find "$cj/0" -name 'rank_*.img' 2>/dev/null)" ] || fail "checkpoint 0's images are not in the cache after the job's end"
[ -z "$(find "$cj/1" 2>/dev/null)" ] || fail "checkpoint 1 is in the cache after the job's end: $(find "$cj/1" | tr '\n' ' ')"
grep -q "keeps the images of checkpoint\|removed from this node's cache" "$W/e.err" &&
    fail "the job's end speaks of failed images it removed or kept: $(grep -m1 "keeps the images\|removed from this node's cache" "$W/e.err")"
pass "a failed checkpoint's images leave the cache at its failure (said); the committed one's stay after the job's end"
"$INFO" --verify "$jd/0" >"$W/v.out" 2>&1 || { fail "checkpoint 0 does not verify"; cat "$W/v.out"; }
wait_no_strays

# a job whose last checkpoint commits: nothing stays, nothing is said
start_job f 2 --coord -- --iters 200 --sleep-us 300 --end-file "$W/f.end"
jf=$W/revive_global_snapshot_$JOB.ckpt
expect_rc 0 "checkpoint 0 of job f (committed)" "$CKPT" $JOB
touch "$W/f.end"
job_gone $JOB 120 || fail "job f did not end"
wait $JOB; rc=$?
[ $rc = 0 ] || { fail "job f: exit status $rc"; cat "$W/f.err"; }
left=$(find "$L/$(basename "$jf")" -name 'rank_*.img' 2>/dev/null)
[ -z "$left" ] || fail "job f ended normally after a committed checkpoint but its cached images stay: $left"
grep -q "keeps the images of checkpoint" "$W/f.err" && fail "job f's end speaks of kept images: $(grep -m1 "keeps the images" "$W/f.err")"
wait_no_strays
finish
