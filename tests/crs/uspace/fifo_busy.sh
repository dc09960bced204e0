#!/bin/bash
# FIFOs (named pipes) at restart (review MEDIUM-5; crs_fifo.sh has the state
# test): crt_fifo is checkpointed with --cont and restarted while the
# original still holds its FIFOs open: cr_restart refuses in one line naming
# the FIFO and the original (the restart would share the FIFO and write its
# bytes into the original's); once the original has finished, a restart
# whose FIFO was removed is refused naming the FIFO and mkfifo; made again,
# the image restarts.
. "$(dirname "$0")/../crs_lib.sh"
crs_setup fifo_busy
crs_need_tools cr_run cr_checkpoint cr_restart
crs_busy_image fifo_busy "$CRS_BIN/crt_fifo"
crs_tool "$WORK/r1" cr_restart "$WORK/img"
crs_expect_refusal "cr_restart while the original holds the FIFOs" "$WORK/r1.err" $? "FIFO"
grep -Eq "fifo\.(rw|two) .*process $PID" "$WORK/r1.err" && crs_pass "the message names the FIFO and process $PID" ||
    crs_fail "the message does not name the FIFO and process $PID: $(head -n 1 "$WORK/r1.err")"
[ -s "$WORK/r1.out" ] && crs_fail "the refused restart printed: $(head -n 1 "$WORK/r1.out")"
crs_finish "$d" orig || crs_fail "the original: $FINISH_STATUS"
rm -f "$d/fifo.two" ready.*
crs_tool "$WORK/r2" cr_restart "$WORK/img"
crs_expect_refusal "cr_restart with fifo.two removed" "$WORK/r2.err" $? "mkfifo $d/fifo.two"
mkfifo "$d/fifo.two"
crs_after_point 1 "$d/orig.out" >"$WORK/after1"
rm -f ready.*
st=$(crs_run "$WORK/r3" "$CRS_TOOLS/cr_restart" "$WORK/img")
crs_expect_run "with the FIFO made again the image restarts" "$WORK/after1" "$WORK/r3" "$st"
crs_summary fifo_busy
