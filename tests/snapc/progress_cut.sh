#!/bin/bash
# A rank's progress file cut or damaged (issue 9): failed.<r> and refused.<r> in restart-mpi's
# progress directory are written by revive-restart-rank and the MPI layer (their line, ending in
# a newline, renamed into place once written) and read by the coordinator
# (src/snapc/coord_restart.c count_rank_files). A rank whose disk filled as it wrote leaves a
# file cut short under its name. Fake ranks whose restore fails (FAKE_RESTORE_FAIL=1) write the
# bytes of FAKE_PROGRESS_FILE as their progress file (FAKE_PROGRESS_NAME: failed, or refused):
#   1. cut in the middle of its line (no newline): the restart's message has what was read,
#      marked "..." where it was cut (the code before gave the cut words as if whole);
#   2. a NUL byte in the line: the same (the words after it were lost without a mark);
#   3. one line longer than the coordinator reads: "..." at its cut, and in the index's reason;
#   4. empty: "rank N could not restore its image";
#   5. refused.<r> cut: "was refused: ...", marked "..."; the sequence is not marked as failed.
# Each time: restart-mpi ends 1, without a crash; failed.<r> marks the sequence as failed (a
# rank's restore failed, whatever its words), refused.<r> does not; no progress file is left.
. "$(dirname "$0")/lib.sh"
snapc_workdir snapc-progress-cut

start_job a 2 --coord -- --iters $UNTIL_KILLED --sleep-us 300
jd=$W/revive_global_snapshot_$JOB.ckpt
expect_rc 0 "a snapshot" "$CKPT" $JOB
kill -KILL $(pgrep -f -- "--ready $W/a.ready") $JOB 2>/dev/null; wait $JOB 2>/dev/null
[ -f "$jd/0/snapshot.meta" ] || { fail "no snapshot in $jd/0"; finish; }

# restart NAME [failed|refused]: restart-mpi of jd/0, the ranks' progress file from $W/NAME
restart() {
    rm -f "$jd/index"   # each part starts with no failed restart recorded
    REVIVE_RESTART_RANK=$FRANK REVIVE_COORD_BIN=$COORD FAKE_RESTORE_FAIL=1 FAKE_PROGRESS_FILE=$W/$1 \
        FAKE_PROGRESS_NAME=${2:-failed} expect_rc 1 "$1: restart-mpi" "$RESTART" "$jd/0"
    ls -a "$jd" | grep -q '^\.restart\.' && fail "$1: the restart's progress files were left: $(ls -a "$jd")"
}
marked() {
    grep -q "^seq\.0\.failed_restarts 1" "$jd/index" 2>/dev/null ||
        fail "$1: the failed restart is not in the index: $(cat "$jd/index" 2>&1)"
}
said_failed() { err_has "the restart from $jd/0 failed: $1; recorded in its index"; }

# 1. cut in the middle of the line
printf 'rank 0: the image %s/0/rank_0.img: chunk 3 (address 0x1000) checksum mis' "$jd" >"$W/cut"
restart cut
said_failed "rank 0: the image $jd/0/rank_0.img: chunk 3 (address 0x1000) checksum mis..."
marked cut
pass "1: a progress file cut in its line: what was read, marked '...' where cut; the sequence marked"

# 2. a NUL byte in the line
printf 'rank 0: the image is dam\0aged\n' >"$W/nul"
restart nul
said_failed "rank 0: the image is dam..."
marked nul
pass "2: a NUL byte in a progress file: the words before it, marked '...'"

# 3. longer than the coordinator reads
{ printf 'rank 0: '; head -c 40000 /dev/zero | tr '\0' y; echo; } >"$W/long"
restart long
err_has "the restart from $jd/0 failed: rank 0: yyyyyyyyyy"
err_has "yyy...; recorded in its index"
marked long
reason=$(sed -n 's/^seq\.0\.failed_reason //p' "$jd/index")
[[ $reason == "rank 0: yyy"*"yyy..." ]] || fail "3: the index's reason is not marked where cut: ${reason:0:40}...${reason: -40}"
pass "3: a line longer than the coordinator reads: '...' at its cut, in the message and the index"

# 4. empty
: >"$W/empty"
restart empty
grep -q "the restart from $jd/0 failed: rank [01] could not restore its image; recorded in its index" "$W/cmd.err" ||
    { fail "4: no message naming the rank"; sed 's/^/    /' "$W/cmd.err"; }
marked empty
pass "4: an empty progress file: the rank that could not restore its image, the sequence marked"

# 5. refused.<r> cut
printf 'rank 0: the library /usr/lib/libfoo.so changed since the checkp' >"$W/refcut"
restart refcut refused
err_has "the restart from $jd/0 was refused: rank 0: the library /usr/lib/libfoo.so changed since the checkp...; the snapshot is not marked as failed"
grep -q "failed_restarts" "$jd/index" 2>/dev/null && fail "5: a refusal marked the sequence: $(cat "$jd/index")"
pass "5: refused.<r> cut: what was read, marked '...'; not marked as failed"
finish
