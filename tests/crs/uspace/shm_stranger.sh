#!/bin/bash
# A /dev/shm object of the image held at restart by a process that is not the
# original (review LOW): cr_restart gives a restarted process a /dev/shm of
# its own only when the holder is the original, still running (a copy
# beside it); another program holding an object under that name now is
# refused, naming it (before, the restart went on in a /dev/shm of its own,
# cut off from that program's object). crt_saved is checkpointed with
# --cont; once the original has finished (removing its objects), another
# process makes and holds /dev/shm/crt_saved.PID.b: the restart is refused
# naming it; that process gone, the image restarts.
. "$(dirname "$0")/../crs_lib.sh"
crs_setup shm_stranger
crs_need_tools cr_run cr_checkpoint cr_restart
crs_busy_image shm_stranger "$CRS_BIN/crt_saved"
crs_finish "$d" orig || crs_fail "the original: $FINISH_STATUS"
obj=/dev/shm/crt_saved.$PID.b
crs_at_exit "rm -f /dev/shm/crt_saved.$PID.a /dev/shm/crt_saved.$PID.b"
(crs_clean_exec setsid bash -c 'exec 3<>"$1"; echo $$ >"$2.tmp"; mv "$2.tmp" "$2"; exec sleep 600' holder "$obj" \
    "$WORK/holder" </dev/null >/dev/null 2>&1 &)
crs_wait_for "$WORK/holder" 30 || crs_fail "setup: the holder of $obj never started"
hp=$(cat "$WORK/holder")
crs_at_exit "kill -KILL $hp"
rm -f ready.*
crs_tool "$WORK/r1" cr_restart "$WORK/img"
st=$?
[ "$st" = 42 ] && crs_fail "cr_restart ran the program in a /dev/shm of its own while process $hp (sleep) holds $obj"
crs_expect_refusal "cr_restart while process $hp (sleep) holds $obj" "$WORK/r1.err" $st "does not run the image's program"
grep -q "$obj .*process $hp (sleep)" "$WORK/r1.err" && crs_pass "the message names $obj and process $hp (sleep)" ||
    crs_fail "the message does not name $obj and process $hp (sleep): $(head -n 1 "$WORK/r1.err")"
[ -s "$WORK/r1.out" ] && crs_fail "the refused restart printed: $(head -n 1 "$WORK/r1.out")"
kill -KILL "$hp"
while kill -0 "$hp" 2>/dev/null; do sleep 0.05; done
rm -f "$obj"
crs_after_point 1 "$d/orig.out" >"$WORK/after1"
rm -f ready.*
st=$(crs_run "$WORK/r2" "$CRS_TOOLS/cr_restart" "$WORK/img")
crs_expect_run "with the holder gone the image restarts" "$WORK/after1" "$WORK/r2" "$st"
crs_summary shm_stranger
