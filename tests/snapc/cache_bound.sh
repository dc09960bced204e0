#!/bin/bash
# A periodic job (--interval 1) whose snapshot directory is full (a small tmpfs filled after the
# first commit) fails every checkpoint's staging: its node's cache keeps the committed sequence
# and, besides it, only the one being written: each failed sequence's images go at its failure
# (review MEDIUM-1: every failed sequence's images stayed, 14 copies after a 9 s job; then the
# newest failed one stayed until the next checkpoint began, mend42/43 e1); the coordinator says
# once, not at each failure, that they go; once there is room again the next commit leaves only
# committed sequences in the cache. Needs to mount a tmpfs (root).
. "$(dirname "$0")/lib.sh"
snapc_workdir snapc-cache-bound
small_tmpfs 1m

start_job a 2 --coord --dir "$mnt" --interval 1 -- --iters $UNTIL_KILLED --sleep-us 300
jd=$mnt/revive_global_snapshot_$JOB.ckpt
cache=$W/revive-local-$(id -u)/revive_global_snapshot_$JOB.ckpt
wait_for 120 '[ "$(newest_committed "$jd")" -ge 0 ]' || fail "no first commit in 120 s"
[ -d "$cache" ] || fail "no node-local cache at $cache: $(ls -R "$W/revive-local-"* 2>&1 | head)"
dd if=/dev/zero of="$mnt/filler" bs=4k 2>/dev/null
base=$(grep -c "is not committed" "$W/a.err")
# at least 8 failed checkpoints (each one's images in the cache on the old code)
wait_for 240 '[ $(($(grep -c "is not committed" "$W/a.err") - base)) -ge 8 ]' ||
    fail "8 failed checkpoints not seen in 240 s: $(grep -c "is not committed" "$W/a.err")"
cache_bounded "$jd" "$cache" "$W/a.err" 8
pass "a full snapshot directory: $kept sequences at most in the cache after 8+ failed checkpoints, none failed, said once"

# room again: a commit, then only committed sequences in the cache (the one being written aside)
c0=$(newest_committed "$jd")
rm -f "$mnt/filler"
wait_for 120 '[ "$(newest_committed "$jd")" -gt "$c0" ]' || fail "no commit once there is room"
cache_only_committed "$jd" "$cache"
kill -TERM $JOB; wait $JOB
pass "room again: the next commit leaves no failed sequence in the cache"
wait_no_strays
finish
