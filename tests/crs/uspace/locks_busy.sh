#!/bin/bash
# A restart while another process holds a conflicting lock (issue 10, point
# 4): crt_locks is checkpointed with --cont and restarted while the original
# still holds its locks: cr_restart must fail in one line naming the locked
# file and the process that holds it, the program never running; once the
# original has finished, the same image restarts.
. "$(dirname "$0")/../crs_lib.sh"
crs_setup locks_busy
crs_need_tools cr_run cr_checkpoint cr_restart
crs_busy_image locks_busy "$CRS_BIN/crt_locks"
crs_tool "$WORK/r1" cr_restart "$WORK/img"
crs_expect_refusal "cr_restart while the original holds the locks" "$WORK/r1.err" $? "locks.a"
grep -q "process $PID holds" "$WORK/r1.err" && crs_pass "the message names the holder, process $PID" ||
    crs_fail "the message does not name process $PID as the holder"
[ -s "$WORK/r1.out" ] && crs_fail "the refused restart printed: $(head -n 1 "$WORK/r1.out")"
crs_restart_after_original "once the original is gone the image restarts and holds the locks"
crs_summary locks_busy
