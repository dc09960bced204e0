#!/bin/bash
# TCP connections to the process's own listener that the checkpoint refuses,
# in one line, the process running on (tcp_pending.c):
#   sent       one waiting in the listener's queue that already sent bytes
#              (review, item 3: they sit in the server end, which only accept
#              reaches): the message says how many and why, and what to do
#   elsewhere  one whose server end another process accepted, while a
#              connection of that process waits in the listener's queue
#              (review LOW): it was taken for a waiting connection of the
#              process's own, and the image written; now refused naming that
#              process
. "$(dirname "$0")/../crs_lib.sh"
crs_setup tcp_pending
crs_need_tools cr_run cr_checkpoint
for mode in sent elsewhere; do
    d=$WORK/$mode
    crs_start_or_end "$mode: setup: tcp_pending under cr_run never got ready" "$d" "$CRS_TOOLS/cr_run" \
        "$CRS_BIN/tcp_pending" "$mode"
    case $mode in
        sent) word="already sent 5 bytes" ;;
        elsewhere)
            other=$(cat "$d/ready.other")
            crs_at_exit "kill -KILL $other"
            word="process $other 'tcp_pending' accepted"
            ;;
    esac
    crs_tool "$WORK/ck-$mode" cr_checkpoint -f "$WORK/$mode.img" "$PID"
    crs_expect_refusal "$mode: the checkpoint is refused" "$WORK/ck-$mode.err" $? "$word"
    [ -e "$WORK/$mode.img" ] && crs_fail "$mode: the refused checkpoint left an image"
    kill -0 "$PID" 2>/dev/null && crs_pass "$mode: the process runs on" || crs_fail "$mode: the process ended"
    kill -KILL "$PID" 2>/dev/null
    [ "$mode" = elsewhere ] && kill -KILL "$other" 2>/dev/null
done
crs_summary tcp_pending
