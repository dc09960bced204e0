#!/bin/bash
# A rank that ends after its verified image was renamed into the sequence directory, before the
# coordinator heard its STAGED (killed by the launcher in that window: a rename and a directory
# sync), does not fail the sequence (diffrev33 R-L8). The coordinator then has nobody to stage
# that rank; when its host's cache lacks the image too (the rank ran elsewhere: it fetches from
# the other hosts' caches, whose receiver refuses to overwrite the image there, EEXIST) it failed
# the sequence although the image was there and good. Now it checks the image where it is.
# Jobs of 4 fake ranks, staging held (filem-stage-hold), the launcher stopped (SIGSTOP) so that it
# does not end the other ranks:
#   a. rank 1's cached image moved into the sequence directory (as its staging's rename would),
#      rank 1 killed: taken as staged ("renamed into the sequence directory"), the sequence
#      commits and verifies. Before: "checkpoint 0 is not committed: ... the coordinator's host
#      ... has no good one".
#   b. the sequence directory's copy of rank 1 damaged (one byte), the cached one good: not taken;
#      the coordinator copies its cache's over it, the sequence commits and verifies.
. "$(dirname "$0")/lib.sh"
snapc_workdir snapc-selfstage-there

# run_part NAME: a job, its staging held, a snapshot; sets JOB, jd, cached, launcher, victim
run_part() {
    local name=$1
    held_job "$name" 4 REVIVE_FAULT=filem-stage-hold REVIVE_STAGE_HOLD="$W/$name.hold"
    cached=$TMPDIR/revive-local-$(id -u)/$(basename "$jd")/0/rank_1.img
    expect_rc 0 "$name: a snapshot (--no-wait-stage, its staging held)" "$CKPT" --no-wait-stage $JOB || finish
    wait_for 30 '[ -f "$cached" ]' || { fail "$name: rank 1's image is not in the cache: $cached"; finish; }
    rank_pid 1 || { fail "$name: no launcher ($LAUNCHER) or rank 1"; finish; }
    launcher=$LAUNCHER victim=$RANK_PID
}

# end_part NAME: the staging let go, the launcher continued; the sequence commits and verifies
end_part() {
    local name=$1
    touch "$W/$name.hold"
    kill -CONT $launcher
    wait_for 60 '[ -f "$jd/0/snapshot.meta" ] || grep -q "checkpoint 0 is not committed" "$W/$name.err"'
    [ -f "$jd/0/snapshot.meta" ] ||
        { fail "$name: the sequence did not commit: $(grep -m1 "checkpoint 0 is not committed" "$W/$name.err")"; return 1; }
    expect_rc 0 "$name: ckpt-info --verify of the sequence" "$INFO" --verify "$jd/0"
    kill -TERM $JOB 2>/dev/null
    job_gone $JOB 60 || fail "$name: the coordinator did not end"
    wait_no_strays 30
}

# a. the rank's verified image is in the sequence directory, its STAGED never came
run_part a
install -m 600 "$cached" "$jd/0/.rank_1.tmp" && mv "$jd/0/.rank_1.tmp" "$jd/0/rank_1.img" && rm "$cached"
kill -STOP $launcher
kill -KILL $victim
wait_for 30 'grep -q "rank 1: its image .* was in the sequence directory already and verifies" "$W/a.err" || grep -q "checkpoint 0 is not committed" "$W/a.err"'
grep -q "rank 1: its image .* was in the sequence directory already and verifies: taken as staged" "$W/a.err" ||
    fail "a: rank 1's image in the sequence directory was not taken: $(grep -m1 "not committed\|rank 1" "$W/a.err")"
end_part a && grep -q "^rank.1.staged.from the rank's own copy, renamed into the sequence directory" "$jd/0/snapshot.meta" ||
    { fail "a: snapshot.meta's rank.1.staged.from: $(grep "staged.from" "$jd/0/snapshot.meta" 2>/dev/null)"; grep "rank 1\|rank.1" "$W/a.err" "$jd/0/snapshot.meta" | tail -12; }
pass "a: a rank ended after its image was renamed into place: taken as staged, the sequence commits and verifies"

# b. a damaged copy there is not taken: the coordinator's cache's copy replaces it
run_part b
cp "$cached" "$jd/0/rank_1.img" && chmod 600 "$jd/0/rank_1.img"
size=$(stat -c %s "$jd/0/rank_1.img")
printf '\xff' | dd of="$jd/0/rank_1.img" bs=1 seek=$((size - 100)) conv=notrunc 2>/dev/null
kill -STOP $launcher
kill -KILL $victim
wait_for 30 'grep -q "rank 1: image staged by the coordinator" "$W/b.err" || grep -q "checkpoint 0 is not committed" "$W/b.err"'
grep -q "rank 1: image staged by the coordinator from $cached" "$W/b.err" ||
    fail "b: rank 1 was not staged from this host's cache: $(grep -m2 "not committed\|rank 1:" "$W/b.err")"
grep -q "was in the sequence directory already" "$W/b.err" && fail "b: the damaged copy was taken"
end_part b
pass "b: a damaged copy in the sequence directory is not taken: replaced by the cache's, the sequence commits and verifies"
finish
