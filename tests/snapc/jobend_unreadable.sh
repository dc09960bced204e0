#!/bin/bash
# The job's end removes this node's cached sequences that were never committed (coord_cache.c
# drop_failed_kept: "removed ... not committed ... can never be restarted"); what is committed is
# read in the snapshot directory. When that directory cannot be read at the job's end (moved
# away here, as a path unmounted or an NFS server lost), a committed sequence's node-local copy
# was listed as not committed and "cannot be restarted", which is false (diffrev29 S-L3). Now
# nothing is said or removed then, and the copies stay. (jobend_stage.sh: a sequence whose
# staging failed is removed.)
. "$(dirname "$0")/lib.sh"
snapc_workdir snapc-jobend-unreadable
L=$TMPDIR/revive-local-$(id -u)

start_job a 2 --coord -- --iters $UNTIL_KILLED --sleep-us 300
jd=$W/revive_global_snapshot_$JOB.ckpt
expect_rc 0 "a snapshot (committed)" "$CKPT" $JOB
[ -f "$jd/0/snapshot.meta" ] || fail "sequence 0 is not committed: $(cat "$W/a.err")"
cache=$L/$(basename "$jd")
[ -n "$(find "$cache/0" -name 'rank_*.img' 2>/dev/null)" ] || fail "no node-local copy of sequence 0 in $cache"
mv "$jd" "$W/away"
kill -TERM $JOB
job_gone $JOB 60 || fail "the job did not end on SIGTERM"
wait $JOB
if grep -q "keeps the images of checkpoint\|removed from this node's cache" "$W/a.err"; then
    fail "the job's end calls the committed sequence's cached copies not committed:"
    grep "keeps the images of checkpoint\|removed from this node's cache" "$W/a.err" | sed 's/^/    /'
fi
[ -n "$(find "$cache/0" -name 'rank_*.img' 2>/dev/null)" ] || fail "sequence 0's node-local copies went"
mv "$W/away" "$jd"
"$INFO" "$jd" >"$W/info.out" 2>&1 || fail "ckpt-info of the job directory put back: $(cat "$W/info.out")"
wait_no_strays
pass "the snapshot directory unreadable at the job's end: its committed sequence is not called uncommitted, its cache stays"
finish
