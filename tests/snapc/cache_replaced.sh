#!/bin/bash
# revive-restart-rank's run again after the restore of a node-local copy failed (issue 9;
# tools/restart_rank_cache.c rank_cache_failed): the copy is checked, and removed when damaged,
# only while it is still the file the restore read (diffrev26 S-L1: that branch had no test).
# The run again is driven as the first run starts it: REVIVE_RESTART_CACHE_FAILED (DEV:INO:PATH),
# REVIVE_RESTART_CACHE_STAMP (change time and size) and REVIVE_RESTART_CACHE_ERR, no launcher
# (PMI_RANK, PMI_SIZE); the snapshot directory's image is made unreadable as an image, so that
# each run stops at the restore after saying which copy it reads.
#   1. the copy was replaced since (a fresh copy renamed over it: another inode): "no longer the
#      copy its restore read", the rank reads the snapshot directory's image, the fresh copy is
#      kept as it is (fails if rank_cache_failed's identity check is taken out);
#   2. the same device and inode number, another file (as when ext4 or xfs gives an inode number
#      freed by an unlink to a fresh copy at once: here the file rewritten in place): the same
#      (diffrev26 S-L2; the code before took it for the copy read, checked it and stopped with
#      the first restore's words);
#   3. the copy read, damaged in a chunk, still there: "is damaged", removed from the cache (the
#      identity with its stamp matches the copy it names).
. "$(dirname "$0")/lib.sh"
snapc_workdir snapc-cache-replaced
RR=$B/tools/revive-restart-rank

start_job a 2 --coord -- --iters $UNTIL_KILLED --sleep-us 300
jd=$W/revive_global_snapshot_$JOB.ckpt
expect_rc 0 "a snapshot" "$CKPT" $JOB
kill -KILL $(pgrep -f -- "--ready $W/a.ready") $JOB 2>/dev/null; wait $JOB 2>/dev/null
ref=$jd/0
[ -f "$ref/rank_0.img" ] || { fail "no snapshot in $ref"; finish; }
mkdir -m 0700 "$W/cache"
copy=$W/cache/rank_0.img
( umask 077; cp "$ref/rank_0.img" "$copy" && cp "$ref/rank_0.img" "$W/sound.img" ) || { fail "cannot copy the image"; finish; }
# the snapshot directory's image: no image any more (its checksum stays in the metadata)
printf 'not an image\n' >"$ref/rank_0.img"
why="chunk 7 (address 0x1000) checksum mismatch (the test's words)"

# run_again DEV:INO STAMP: the rank's run again, the copy's identity as the first run records it
rr() ( clean_exec PMI_RANK=0 PMI_SIZE=2 REVIVE_RESTART_CACHE_FAILED="$1:$copy" REVIVE_RESTART_CACHE_STAMP="$2" \
           REVIVE_RESTART_CACHE_ERR="$why" "$RR" "$ref" )
run_again() { expect_rc 1 "the run again" rr "$@"; }
id() { stat -c '%d:%i' "$1"; }
stamp() { echo "$(stat -c '%.9Z' "$1"):$(stat -c %s "$1")"; }
replaced="rank 0: the node-local copy $copy is no longer the copy its restore read (replaced or removed in this host's cache since; that restore stopped: $why); this rank restores from the snapshot directory's image $ref/rank_0.img instead"

# 1. replaced by a rename
old_id=$(id "$copy") old_stamp=$(stamp "$copy")
( umask 077; cp "$W/sound.img" "$W/cache/.fresh" ) && mv "$W/cache/.fresh" "$copy"
[ "$(id "$copy")" != "$old_id" ] || fail "1: the rename kept the inode"
run_again "$old_id" "$old_stamp"
err_has "$replaced"
cmp -s "$copy" "$W/sound.img" || fail "1: the fresh copy was not kept as it was"
pass "1: a copy renamed over the one the restore read: said, kept, the snapshot directory's image read"

# 2. the same device and inode, another file
old_id=$(id "$copy") old_stamp=$(stamp "$copy")
sleep 0.01   # a change time of its own (nanoseconds; a coarse clock ticks in 1-10 ms)
cat "$W/sound.img" >"$copy"
[ "$(id "$copy")" = "$old_id" ] || fail "2: the rewrite changed the inode"
[ "$(stamp "$copy")" != "$old_stamp" ] || fail "2: the rewrite kept the change time"
run_again "$old_id" "$old_stamp"
err_has "$replaced"
cmp -s "$copy" "$W/sound.img" || fail "2: the fresh copy was not kept as it was"
pass "2: another file at the same device and inode number: said, kept, the snapshot directory's image read"

# 3. the copy read, damaged
sz=$(stat -c %s "$copy")
printf '\377\377\377\377\377\377\377\377' | dd of="$copy" bs=1 seek=$((sz / 2)) conv=notrunc status=none
run_again "$(id "$copy")" "$(stamp "$copy")"
err_has "rank 0: the node-local copy $copy is damaged ("
err_has "not used, removed from this host's cache; this rank restores from the snapshot directory's image $ref/rank_0.img instead"
[ -e "$copy" ] && fail "3: the damaged copy is still in the cache"
pass "3: the damaged copy the restore read: said and removed"
finish
