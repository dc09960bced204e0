#!/bin/bash
# A restart while another process holds a conflicting lock (issue 10, point
# 4): crt_locks is checkpointed with --cont and restarted while the original
# still holds its locks: cr_restart must fail in one line naming the locked
# file and the process that holds it, the program never running; once the
# original has finished, the same image restarts.
. "$(dirname "$0")/../crs_lib.sh"
crs_setup locks_busy
crs_need_tools cr_run cr_checkpoint cr_restart
d=$WORK/prog
crs_start "$d" orig "$CRS_TOOLS/cr_run" "$CRS_BIN/crt_locks" || {
    crs_fail "setup: crt_locks under cr_run never got ready"
    crs_summary locks_busy
}
crs_tool "$WORK/ck" cr_checkpoint --cont -f "$WORK/img" "$PID" || {
    crs_fail "setup: cr_checkpoint --cont: $(head -n 1 "$WORK/ck.err")"
    crs_summary locks_busy
}
cd "$d" || exit 99
crs_tool "$WORK/r1" cr_restart "$WORK/img"
crs_expect_refusal "cr_restart while the original holds the locks" "$WORK/r1.err" $? "locks.a"
grep -q "process $PID holds" "$WORK/r1.err" && crs_pass "the message names the holder, process $PID" ||
    crs_fail "the message does not name process $PID as the holder"
[ -s "$WORK/r1.out" ] && crs_fail "the refused restart printed: $(head -n 1 "$WORK/r1.out")"
crs_finish "$d" orig || crs_fail "the original: $FINISH_STATUS"
sed -n '/^-- checkpoint 1 --$/,$p' "$d/orig.out" | tail -n +2 >"$WORK/after1"
rm -f ready.*
st=$(crs_run "$WORK/r2" "$CRS_TOOLS/cr_restart" "$WORK/img")
if [ "$st" = 42 ] && cmp -s "$WORK/after1" "$WORK/r2.out"; then
    crs_pass "once the original is gone the image restarts and holds the locks"
else
    crs_fail "the restart after the original: $(crs_status_text "$st")"
    crs_show "$WORK/r2.out" 20
    crs_show "$WORK/r2.err"
fi
crs_summary locks_busy
