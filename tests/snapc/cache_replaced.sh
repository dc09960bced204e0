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
#      identity with its stamp matches the copy it names);
#   4. the restore's words longer than the run again holds (REVIVE_RESTART_TEXT_MAX, 33 KiB; the
#      first run's own cannot be, only a hand-set variable): cut visibly, "..." at the cut (the
#      code before cut them silently);
#   5. the first run itself (--local: the node-local copy, damaged in a chunk, is picked; its
#      restore stops at the chunk's checksum): it sets the variables and runs again, the run again
#      parses the stamp the first run formatted, finds the copy is still the one read, says it is
#      damaged and removes it (diffrev29 S-L1: parts 1-3 format the stamp themselves; a stamp the
#      run again cannot parse or match would say "no longer the copy" and keep the copy).
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
sleep 0.05   # a change time of its own (nanoseconds; a coarse clock ticks in 1-10 ms, 0.01 s is
             # one jiffy at HZ=100: diffrev29 S-L2)
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

# 4. words too long: cut visibly
( umask 077; cp "$W/sound.img" "$copy" ) || fail "4: cannot copy the image"
long=$(head -c 40000 /dev/zero | tr '\0' x)
short_why=$why
why="$short_why $long"
run_again 0:0 ""
err_has "that restore stopped: $short_why xxxxxxxxxx"
err_has "xxx...); this rank restores from the snapshot directory's image $ref/rank_0.img instead"
[ "$(grep -o 'x*' "$W/cmd.err" | awk '{ if (length($0) > n) n = length($0) } END { print n + 0 }')" -lt 40000 ] ||
    fail "4: the words were not cut"
why=$short_why
pass "4: the restore's words longer than the run again holds: cut with \"...\", not silently"

# 5. the first run sets the variables itself
loc=$W/loc
lcopy=$loc/${jd##*/}/0/rank_0.img
mkdir -p -m 0700 "$loc" "$loc/${jd##*/}" "$loc/${jd##*/}/0"
( umask 077; cp "$W/sound.img" "$lcopy" ) || fail "5: cannot copy the image"
sz=$(stat -c %s "$lcopy")
printf '\377\377\377\377\377\377\377\377' | dd of="$lcopy" bs=1 seek=$((sz / 2)) conv=notrunc status=none
first() ( clean_exec PMI_RANK=0 PMI_SIZE=2 "$RR" --local "$loc" "$ref" )
expect_rc 1 "the first run" first
err_has "rank 0: runs again to restore from the snapshot directory's image $ref/rank_0.img (the restore of $lcopy stopped while loading its memory)"
err_has "rank 0: the node-local copy $lcopy is damaged ("
err_has "not used, removed from this host's cache; this rank restores from the snapshot directory's image $ref/rank_0.img instead"
grep -q "no longer the copy" "$W/cmd.err" && fail "5: the run again did not take the copy for the one read"
[ -e "$lcopy" ] && fail "5: the damaged copy is still in the cache"
pass "5: the first run's own variables: the run again finds the copy it read damaged, said and removed"
finish
