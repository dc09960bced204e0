#!/bin/bash
# newuser7c L1: a job that ends after a failed checkpoint names, at its end, every sequence whose
# images stay in this node's cache, each with why. Fake ranks, node-local first (the default
# cache): checkpoint 0 commits; checkpoint 1's copy to the snapshot directory fails (fault point
# filem-stage from epoch 2); then the job ends normally. A rank drops its node's copies at a
# normal end only after a last checkpoint that committed, so both stay: checkpoint 1 (not
# committed: kept for a later commit, cannot be restarted) and checkpoint 0 (committed: a copy a
# restart of it on this node reads). Before, the end named checkpoint 1 alone, and the 1 MB of
# checkpoint 0 in the same folder went unsaid. A job whose last checkpoint commits leaves nothing
# and says nothing (the second job).
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
for q in 0 1; do
    [ -n "$(find "$cj/$q" -name 'rank_*.img' 2>/dev/null)" ] || fail "checkpoint $q's images are not in the cache after the job's end"
done
said=$(grep "this node's cache $cj keeps" "$W/e.err")
if [ "$(grep -c . <<<"$said")" != 1 ]; then
    fail "the job's end does not say once what its cache keeps: $(grep -i cache "$W/e.err")"
elif ! grep -q "keeps the images of checkpoint 1, not committed ([0-9]* MB): kept for a later commit of this job, which has ended; they cannot be restarted" <<<"$said"; then
    fail "the job's end does not name checkpoint 1 as not committed: $said"
elif ! grep -q "; and of checkpoint 0, committed ([0-9]* MB): copies of the snapshot directory's, which a restart of it on this node reads" <<<"$said"; then
    fail "the job's end names only the failed checkpoint, not checkpoint 0 whose copies stay too: $said"
elif ! grep -q "'ckpt-info --clean-cache' removes them" <<<"$said"; then
    fail "the job's end does not say what removes them: $said"
else
    pass "a job ended after a failed checkpoint names both sequences its cache keeps: $(cut -c1-400 <<<"$said")"
fi
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
