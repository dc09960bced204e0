#!/bin/bash
# A full disk during a checkpoint (a real one: the snapshot directory on a small tmpfs, filled
# up after a first snapshot): no checkpoint, one clear message naming the rank and "No space
# left on device" with one piece of advice naming --ckpt-dir, the failed sequence never offered
# (marked failed: ckpt-info shows it, restart-mpi passes over it), the earlier snapshot intact,
# the job running on; once there is room again the next snapshot commits. With room for one image
# and a half, no image is left in the failed sequences (also a copy that finished after the failure).
# Needs to mount a tmpfs (root): skipped otherwise.
. "$(dirname "$0")/lib.sh"
snapc_workdir snapc-diskfull
small_tmpfs 1m

start_job a 3 --coord --dir "$mnt" -- --iters $UNTIL_KILLED --sleep-us 300
jd=$mnt/revive_global_snapshot_$JOB.ckpt
expect_rc 0 "the first snapshot" "$CKPT" $JOB
# fill the disk
dd if=/dev/zero of="$mnt/filler" bs=4k 2>/dev/null
[ "$(df --output=avail -k "$mnt" | tail -1 | tr -d ' ')" -le 4 ] || fail "the tmpfs is not full"
expect_rc 1 "a snapshot on a full disk" "$CKPT" $JOB && err_has "no checkpoint: rank " && err_has "No space left on device"
# one piece of advice, naming the option that puts snapshots elsewhere
err_has "free space on its file system or give another --ckpt-dir DIR"
[ "$(grep -o 'free space' "$W/cmd.err" | wc -l)" = 1 ] || fail "the advice is not given once: $(cat "$W/cmd.err")"
cat "$W/cmd.err"
[ "$(grep -c . "$W/cmd.err")" = 1 ] || { fail "more than one line"; cat "$W/cmd.err"; }
# node-local first (these jobs' default: the images are safe in the nodes' caches): the
# sequence is kept and marked failed with the reason, although the disk is full (room was kept
# for the mark while there was some: before, the mark could not be written and the sequence went
# unmarked), ckpt-info shows it failed, restart-mpi passes over it saying why and refuses it
# by name
if [ -f "$jd/1/staging.failed" ]; then
    grep -q "No space left on device" "$jd/1/staging.failed" ||
        fail "the mark does not say why: $(cat "$jd/1/staging.failed")"
    [ "$(stat -c %a "$jd/1/staging.failed")" = 600 ] || fail "the mark is not 0600"
else
    fail "the failed sequence is not marked failed: $(ls -la "$jd" "$jd/1" 2>&1)"
fi
"$INFO" "$jd" >"$W/info.out" 2>&1
grep -A1 "^$jd/1\$" "$W/info.out" | grep -q "failed: .*No space left on device" ||
    { fail "ckpt-info does not show sequence 1 failed"; cat "$W/info.out"; }
# the sequence itself says why too (review9 F5: "not committed (no snapshot.meta): it was never
# finished or it failed", the reason only in the listing of the job directory)
expect_rc 3 "ckpt-info of the failed sequence" "$INFO" "$jd/1" &&
    err_has "$jd/1 is not committed: its staging failed: " && err_has "No space left on device" &&
    { grep -q "failed: .*No space left on device" "$W/cmd.out" || fail "ckpt-info $jd/1: no failed line: $(cat "$W/cmd.out")"; }
expect_rc 3 "ckpt-info --json of the failed sequence" "$INFO" --json "$jd/1" &&
    { grep -q '"state":"failed","error":"[^"]*No space left on device' "$W/cmd.out" ||
        fail "ckpt-info --json $jd/1: $(cat "$W/cmd.out")"; }
REVIVE_RESTART_RANK=$FRANK REVIVE_COORD_BIN=$COORD "$RESTART" --showme "$jd" >"$W/showme.out" 2>"$W/showme.err" ||
    fail "restart-mpi --showme of the job directory: $(cat "$W/showme.err")"
grep -q "skipping sequence 1 of .*: its staging failed.*No space left on device.*taking sequence 0" "$W/showme.err" ||
    { fail "restart-mpi does not say it passes over sequence 1"; cat "$W/showme.err"; }
grep -q "$jd/0" "$W/showme.out" || { fail "restart-mpi would not take sequence 0"; cat "$W/showme.out"; }
expect_rc 1 "restart-mpi --seq 1 (its staging failed)" "$RESTART" --showme --seq 1 "$jd" &&
    err_has "sequence 1 of $jd was never committed: its staging failed (" && err_has "No space left on device"
"$INFO" --verify "$jd/0" >"$W/verify.out" 2>&1 || { fail "sequence 0 damaged"; cat "$W/verify.out"; }
kill -0 $JOB || fail "the job ended"
# the other ranks, whose copies found the sequence set aside after the first one's failure, do
# not warn of a missing directory under the real reason (they said "staging failed: cannot
# create a file in the shared directory ...: No such file or directory")
grep "staging failed: .*No such file or directory" "$W/a.err" &&
    fail "a misleading staging warning in the job's output"
# room again: the next one commits
rm -f "$mnt/filler"
expect_rc 0 "a snapshot once there is room" "$CKPT" $JOB && consistent "$(tail -n1 "$W/cmd.out")" 3
[ "$(ls -A "$jd" | grep -c '^\.discarded')" = 0 ] || fail "hidden discarded directories left: $(ls -A "$jd")"
# room for one image and a half: the copies of some ranks fit, another's does not; no image
# is left in the failed sequence, also one renamed in after the failure (review10: a 1.5 MiB
# image stayed in each failed sequence on a 3 MiB tmpfs, 3 of 3, the room never came back)
seq=$(basename "$(tail -n1 "$W/cmd.out")")
isz=$(stat -c %s "$jd/$seq/rank_0.img")
dd if=/dev/zero of="$mnt/filler" bs=4k 2>/dev/null
truncate -s -$((isz * 3 / 2)) "$mnt/filler"
for k in 1 2 3; do
    expect_rc 1 "a snapshot with room for one image and a half ($k)" "$CKPT" $JOB && err_has "No space left on device"
done
left=
for i in $(seq 50); do
    left=$(ls "$jd"/*/rank_*.img 2>/dev/null | grep -v "^$jd/[0-$seq]/")
    [ -z "$left" ] && break
    sleep 0.1
done
[ -z "$left" ] || fail "images left in failed sequences: $left"
rm -f "$mnt/filler"
kill -TERM $JOB; wait $JOB
# the room kept for a failure mark goes with the job
[ -e "$jd/.staging.reserve" ] && fail "the job ended, its reservation is left"
pass "a full disk: no checkpoint, named; the earlier snapshot intact; the next one commits"
finish
