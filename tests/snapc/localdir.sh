#!/bin/bash
# Node-local first by default (issue 9, point 1), with fake ranks on one host: without
# --ckpt-local each rank writes into $TMPDIR/revive-local-<uid> (here the test's folder), the
# images reach the snapshot directory (a hard link: the same file system) and commit; the
# default directory not private (0755): the checkpoint fails with one message naming it and
# the way out (--ckpt-local), the job runs on, nothing is "fixed"; private again: the next one
# commits; the default directory full (a small tmpfs on it, root only): the checkpoint fails
# naming "No space left on device", the earlier snapshot intact; a job that ends normally
# leaves no cached image.
. "$(dirname "$0")/lib.sh"
snapc_workdir snapc-localdir
L=$TMPDIR/revive-local-$(id -u)

start_job a 3 --coord -- --iters 1000000 --sleep-us 300
jd=$W/revive_global_snapshot_$JOB.ckpt
expect_rc 0 "a snapshot (default node-local directory)" "$CKPT" $JOB && consistent "$jd/0" 3
[ "$(stat -c %a "$L")" = 700 ] || fail "the default directory is not 0700: $(stat -c %a "$L")"
[ -f "$L/$(basename "$jd")/0/rank_1.img" ] || fail "no cached image in $L: $(ls -R "$L" | head)"
[ "$(stat -c %h "$jd/0/rank_1.img")" = 2 ] || fail "the staged image is not a hard link of the cached one"
chmod 0755 "$L"
expect_rc 1 "a snapshot with the default directory not private" "$CKPT" $JOB &&
    err_has "is not private" && err_has "--ckpt-local"
[ "$(grep -c . "$W/cmd.err")" = 1 ] || { fail "more than one line"; cat "$W/cmd.err"; }
[ "$(stat -c %a "$L")" = 755 ] || fail "the directory's mode was changed"
kill -0 $JOB || fail "the job ended"
chmod 0700 "$L"
expect_rc 0 "a snapshot once it is private again" "$CKPT" $JOB
ref=$(tail -n1 "$W/cmd.out")
pass "default node-local directory: used, linked, refused when not private (named), then used again"

if mount -t tmpfs -o size=1m,mode=0700 revive-localdir "$L" 2>/dev/null; then
    cleanup='umount -l "$L" 2>/dev/null'
    dd if=/dev/zero of="$L/filler" bs=4k 2>/dev/null
    expect_rc 1 "a snapshot with the default directory full" "$CKPT" $JOB &&
        err_has "No space left on device"
    "$INFO" --verify "$ref" >"$W/verify.out" 2>&1 || { fail "the earlier snapshot is damaged"; cat "$W/verify.out"; }
    kill -0 $JOB || fail "the job ended"
    umount -l "$L"; cleanup=:
    pass "default node-local directory full: no checkpoint, named; the earlier snapshot intact"
else
    echo "SKIP: cannot mount a tmpfs here (not root?): the full-directory case is not run"
fi
kill -TERM $JOB; wait $JOB

# a job that ends normally leaves no cached image (its snapshots stay committed)
start_job b 2 --coord -- --iters 20000 --sleep-us 300
jd=$W/revive_global_snapshot_$JOB.ckpt
expect_rc 0 "a snapshot of job b" "$CKPT" $JOB
wait $JOB
[ -f "$jd/0/snapshot.meta" ] || fail "job b's snapshot is not committed"
wait_for 30 '[ -z "$(find "$L/$(basename "$jd")" -name "rank_*.img" 2>/dev/null)" ]' ||
    fail "job b ended normally but its cached images stay: $(find "$L" -name 'rank_*.img')"
pass "a job that ends normally removes its cached images"

# with --ckpt-keep 2 the cache holds two committed sequences while the job runs; at its normal
# end both go (the fresh-user review found the older one left)
start_job c 2 --coord --keep 2 -- --iters 20000 --sleep-us 300
jd=$W/revive_global_snapshot_$JOB.ckpt
expect_rc 0 "a first snapshot of job c" "$CKPT" $JOB
expect_rc 0 "a second snapshot of job c" "$CKPT" $JOB
[ "$(find "$L/$(basename "$jd")" -name "rank_*.img" 2>/dev/null | wc -l)" -ge 3 ] ||
    fail "job c's cache does not hold two sequences while it runs: $(find "$L" -name 'rank_*.img')"
wait $JOB
[ -f "$jd/0/snapshot.meta" ] && [ -f "$jd/1/snapshot.meta" ] || fail "job c's snapshots are not committed"
wait_for 30 '[ -z "$(find "$L/$(basename "$jd")" -name "rank_*.img" 2>/dev/null)" ]' ||
    fail "job c (--ckpt-keep 2) ended normally but cached images stay: $(find "$L" -name 'rank_*.img')"
pass "a job with --ckpt-keep 2 that ends normally removes every cached sequence"

# a restart run beside its original while the original still runs (issue 7 review F1): the
# restart's commits took the original for superseded and removed its caches, the sequence it
# was writing among them (its checkpoints then failed). Now the original's caches and directory
# are left alone while it runs; once it is gone (killed), the restart's next commit removes
# them and marks it superseded, as before.
export REVIVE_RESTART_RANK=$FRANK REVIVE_COORD_BIN=$COORD
start_job d 2 --coord -- --iters 1000000 --sleep-us 300
ja=$JOB; jda=$W/revive_global_snapshot_$ja.ckpt; la=$L/revive_global_snapshot_$ja.ckpt
expect_rc 0 "a snapshot of job d" "$CKPT" $ja
"$RESTART" "$jda/0" >"$W/dr.out" 2>"$W/dr.err" &
jb=$!; jobs_started="$jobs_started $jb"
wait_exec $jb
expect_rc 0 "a snapshot of d's restart" "$CKPT" --wait $jb
expect_rc 0 "a second snapshot of d's restart" "$CKPT" $jb
[ -f "$la/0/rank_1.img" ] || fail "the restart's commits removed the running original's cache: $(ls -R "$la" 2>&1 | head -5)"
[ -e "$jda/superseded" ] && fail "the running original was marked superseded: $(cat "$jda/superseded")"
expect_rc 0 "a snapshot of d while its restart runs" "$CKPT" $ja
[ -f "$la/1/rank_1.img" ] || fail "job d's own new sequence is not in its cache: $(ls -R "$la" 2>&1 | head -5)"
expect_rc 0 "a third snapshot of d's restart" "$CKPT" $jb
[ -f "$la/1/rank_1.img" ] || fail "the restart's commit removed the running original's new sequence"
kill -KILL $ja; wait $ja 2>/dev/null
expect_rc 0 "a snapshot of d's restart once d is gone" "$CKPT" $jb
wait_for 30 '[ ! -e "$la" ]' || fail "the ended original's cache stays after the restart's commit: $(ls -R "$la" | head -5)"
grep -q "^superseded.by $W/revive_global_snapshot_$jb.ckpt" "$jda/superseded" 2>/dev/null ||
    fail "the ended original is not marked superseded by its restart"
kill -TERM $jb; wait $jb
pass "a restart beside its running original leaves the original's caches; once it is gone they go"
wait_no_strays
finish
