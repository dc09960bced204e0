#!/bin/bash
# ckpt-info's messages about a snapshot whose job directory's path is near PATH_MAX (~3.8 KB of
# its 4 KB) arrive whole: its buffers of 512 and 1024 bytes cut them before, without a mark, and
# what was wrong (after the path) was lost (issue 9, follow-up of a2dcc16).
#   - --verify of a sequence with a damaged chunk: the rank's line and the summary on stderr hold
#     the image's whole path and the reader's words after it ("chunk");
#   - a sequence whose staging failed: the reason, and the advice naming the job directory after it;
#   - a restart whose ranks fail from a job directory where "<dir>/.restart.<pid>/failed.<r>" is
#     longer than PATH_MAX: the coordinator reads the ranks' reason by the directory's descriptor.
. "$(dirname "$0")/lib.sh"
snapc_workdir snapc-longpath

start_job a 2 --coord -- --iters $UNTIL_KILLED --sleep-us 300
jd=$W/revive_global_snapshot_$JOB.ckpt
expect_rc 0 "a snapshot" "$CKPT" $JOB
kill -KILL $(pgrep -f -- "--ready $W/a.ready") $JOB 2>/dev/null; wait $JOB 2>/dev/null

deep=$W; for c in a b c d e f g h i j k l m n o; do deep=$deep/$(printf "$c%.0s" $(seq 250)); done
deep=$deep/j
( umask 077; mkdir -p "$deep" ) && cp -a "$jd/0" "$deep/0" || { fail "cannot copy the snapshot to $deep"; finish; }
[ ${#deep} -gt 3700 ] || fail "the deep job directory is only ${#deep} bytes"
img=$deep/0/rank_1.img
sz=$(stat -c %s "$img")
printf '\377\377\377\377\377\377\377\377' | dd of="$img" bs=1 seek=$((sz / 2)) conv=notrunc status=none
expect_rc 1 "ckpt-info --verify of a damaged chunk in a deep job directory" "$INFO" --verify "$deep/0"
line=$(grep '^  rank 1: BAD' "$W/cmd.out")
[[ $line == *"$img"*chunk* ]] || fail "rank 1's line is not whole (${#line} bytes): ...${line: -200}"
line=$(grep "is damaged: rank 1: " "$W/cmd.err")
[[ $line == *"$deep/0 is damaged: rank 1: "*"$img"*chunk* ]] ||
    fail "the summary is not whole (${#line} bytes): ...${line: -200}"
pass "ckpt-info --verify: a damaged chunk at a ${#img}-byte path, said whole"

mkdir -m 0700 "$deep/1"
( umask 077; echo "rank 0 could not copy $deep/1/rank_0.img: No space left on device" >"$deep/1/staging.failed" )
"$INFO" "$deep/1" >"$W/cmd.out" 2>"$W/cmd.err"
line=$(grep "is not committed: its staging failed" "$W/cmd.err")
[[ $line == *"$deep/1 is not committed: its staging failed: rank 0 could not copy $deep/1/rank_0.img: No space left on device; restart-mpi skips it (ckpt-info $deep lists the committed sequences)" ]] ||
    fail "the failed staging's message is not whole (${#line} bytes): ...${line: -200}"
grep -qF "failed: not committed, its images could not all be copied to this directory: rank 0 could not copy $deep/1/rank_0.img: No space left on device" "$W/cmd.out" ||
    fail "the failed staging's listing is not whole: ...$(tail -c 200 "$W/cmd.out")"
pass "ckpt-info of a sequence whose staging failed: the reason and the advice whole"

# a restart whose ranks fail, from a job directory of L bytes: the coordinator's progress
# directory (JD/.restart.<pid>, L+10+digits) is under PATH_MAX, "/failed.<r>" in it is not
# (L+19+digits >= 4096 for pids of 4-7 digits at L=4074); the ranks write it by the directory's
# descriptor, and the coordinator must read it so too: by a path (before) the read failed
# (ENAMETOOLONG) and the ranks' reason was lost ("rank N could not restore its image")
L=4074 jd2=$W
while [ $(( ${#jd2} + 251 )) -lt $L ]; do jd2=$jd2/$(printf "p%.0s" $(seq 250)); done
jd2=$jd2/$(printf "q%.0s" $(seq $(( L - ${#jd2} - 1 ))))
[ ${#jd2} = $L ] || fail "the job directory is ${#jd2} bytes, not $L"
( umask 077; mkdir -p "$jd2" ) && cp -a "$deep/0" "$jd2/0" || { fail "cannot copy the snapshot to $jd2"; finish; }
cp "$jd/0/rank_1.img" "$jd2/0/rank_1.img"   # the undamaged one
REVIVE_RESTART_RANK=$FRANK REVIVE_COORD_BIN=$COORD FAKE_RESTORE_FAIL=1 \
    expect_rc 1 "a restart whose ranks fail, from a $L-byte job directory" "$RESTART" "$jd2/0"
grep -q "the restart from $jd2/0 failed: rank [01]: cannot restore $jd2/0; recorded in its index" "$W/cmd.err" ||
    fail "the ranks' reason is not in the message: ...$(tail -c 300 "$W/cmd.err")"
grep -q "^seq\.0\.failed_restarts 1" "$jd2/index" || fail "the failed restart is not in the index: $(cat "$jd2/index")"
ls -a "$jd2" | grep -q '^\.restart\.' && fail "the restart's progress files were left: $(ls -a "$jd2")"
pass "a failed restart from a $L-byte job directory: the ranks' reason read whole"
finish
