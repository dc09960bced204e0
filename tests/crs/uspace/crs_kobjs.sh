#!/bin/bash
# State test: eventfd, timerfd, signalfd, epoll (watching them, a pipe and
# another epoll; edge-triggered, one-shot; watches of descriptor numbers
# closed since, whose files other descriptors hold: one number taken again,
# one left free) and inotify (watch numbers with a gap) come back with their
# state; every flavour but busy (the two copies would see each other's files
# in the watched folders). cr_info shows where a closed number's file is,
# and a periodic timerfd with unread expirations as armed.
. "$(dirname "$0")/../crs_lib.sh"
crs_setup crs_kobjs
crs_need_tools cr_run cr_checkpoint cr_info
if CRS_FLAVOURS="run kill twice nopid rr cont fork stop term compress stdoutfile tty sigdeath" \
    bash "$(dirname "$0")/../cr_cycle.sh" crt_kobjs; then
    crs_pass "every flavour but busy"
else
    crs_fail "the flavours above"
fi
d=$WORK/info
crs_start_or_end "info: the program never got ready" "$d" "$CRS_TOOLS/cr_run" "$CRS_BIN/crt_kobjs"
crs_tool "$WORK/ck" cr_checkpoint --cont -f "$WORK/img" "$PID" || crs_fail "info: $(head -n 1 "$WORK/ck.err")"
crs_tool "$WORK/info" cr_info "$WORK/img"
n=$(grep -o 'closed since: the file is fd [0-9]*' "$WORK/info.out" | wc -l)
[ "$n" = 2 ] && crs_pass "cr_info shows both watches of closed numbers with the descriptor holding the file" ||
    crs_fail "cr_info shows $n watches of closed numbers, expected 2"
# the periodic timerfd, one expiration unread at the point: armed (the kernel shows no time left
# until it is read; cr_info called it "disarmed"); the one never armed: disarmed
grep -q 'timerfd  clock 1, armed, its expirations since counted when it is read, every 0.050000 s, [1-9][0-9]* expirations\? pending' "$WORK/info.out" &&
    crs_pass "cr_info: the periodic timerfd with unread expirations is armed, every 50 ms, with them pending" ||
    crs_fail "cr_info on the periodic timerfd: $(grep 'timerfd  clock 1' "$WORK/info.out")"
grep -q 'timerfd  clock 0, disarmed, 0 expirations pending' "$WORK/info.out" &&
    crs_pass "cr_info: the timerfd never armed is disarmed" ||
    crs_fail "cr_info on the timerfd never armed: $(grep 'timerfd  clock 0' "$WORK/info.out")"
crs_finish "$d" orig || crs_fail "info: the program after the checkpoint: $(crs_status_text "$FINISH_STATUS")"
crs_summary crs_kobjs
