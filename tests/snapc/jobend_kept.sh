#!/bin/bash
# A job that ends after a failed checkpoint removes that checkpoint's images from this node's
# cache (they can never be restarted: newuser7 F3, after a checkpoint failed on a full
# --ckpt-local the image another rank wrote stayed in that full cache, and the 'ckpt-info
# --clean-cache' the message named kept it), says so, and names the committed sequences whose
# copies stay (newuser7c L1). Fake ranks, node-local first (the default cache): checkpoint 0
# commits; checkpoint 1's copy to the snapshot directory fails (fault point filem-stage from
# epoch 2); then the job ends normally. A rank drops its node's copies at a normal end only after
# a last checkpoint that committed: checkpoint 0's stay (a restart of it on this node reads
# them), checkpoint 1's go. Before: both stayed ("kept for a later commit of this job, which has
# ended"). A job whose last checkpoint commits leaves nothing and says nothing (the second job).
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
touch "$W/e.end"
job_gone $JOB 120 || fail "job e did not end"
wait $JOB; rc=$?
[ $rc = 0 ] || { fail "job e: exit status $rc"; cat "$W/e.err"; }
cj=$L/$(basename "$jd")
[ -n "$(find "$cj/0" -name 'rank_*.img' 2>/dev/null)" ] || fail "checkpoint 0's images are not in the cache after the job's end"
[ -z "$(find "$cj/1" -name 'rank_*.img' 2>/dev/null)" ] ||
    fail "checkpoint 1's images (not committed: they can never be restarted) stay in the cache after the job's end: $(find "$cj/1" -name 'rank_*.img' | tr '\n' ' ')"
said=$(grep "removed from this node's cache $cj" "$W/e.err")
if [ "$(grep -c . <<<"$said")" != 1 ]; then
    fail "the job's end does not say once what it removed from its cache: $(grep -i cache "$W/e.err")"
elif ! grep -q "the images of checkpoint 1, not committed ([0-9]* MB): this job has ended, so they can never be restarted" <<<"$said"; then
    fail "the job's end does not name checkpoint 1 as removed, not committed: $said"
elif ! grep -q "; the copies of checkpoint 0, committed ([0-9]* MB), stay: a restart of it on this node reads them" <<<"$said"; then
    fail "the job's end does not name checkpoint 0, whose copies stay: $said"
else
    pass "a job ended after a failed checkpoint removes its images and names what stays: $(cut -c1-400 <<<"$said")"
fi
grep -q "keeps the images of checkpoint" "$W/e.err" && fail "the job's end also says it keeps images: $(grep -m1 "keeps the images" "$W/e.err")"
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
