#!/bin/bash
# TCP connections to the process's own listener that the checkpoint refuses,
# in one line, the process running on (tcp_pending.c), and one it keeps (later, below):
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
crs_need_tools cr_run cr_checkpoint cr_restart
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

# later (newuser10 M3): a connection waiting in the queue at a --cont checkpoint, accepted by the
# original after it, whose server end closed first: its TIME-WAIT holds the listener's address
# (no SO_REUSEADDR) for 60 s after the original ended. A root restart at once must end it (it is
# the image's connection, its addresses the other way round) and run as the original did; it
# was refused, "it is not a connection of the image". As root only (ending a TIME-WAIT takes
# CAP_NET_ADMIN).
if [ "$(id -u)" = 0 ]; then
    d=$WORK/later
    crs_start_or_end "later: setup: tcp_pending under cr_run never got ready" "$d" "$CRS_TOOLS/cr_run" \
        "$CRS_BIN/tcp_pending" later
    crs_tool "$WORK/ck-later" cr_checkpoint --cont -f "$WORK/later.img" "$PID" ||
        crs_fail "later: cr_checkpoint --cont: $(head -n 1 "$WORK/ck-later.err")"
    touch "$d/go.1"
    st=$(crs_wait_status "$d/orig" 60)
    if [ "$st" = 0 ] && grep -qx 'later: ok' "$d/orig.out"; then
        rm -f "$d"/ready.*
        st=$(cd "$d" && crs_run "$WORK/later-r" "$CRS_TOOLS/cr_restart" "$WORK/later.img")
        [ "$st" = 0 ] && crs_pass "later: restarted at once beside its own connection's TIME-WAIT, ran as the original" ||
            crs_fail "later: the restart: $(crs_status_text "$st"): $(head -n 1 "$WORK/later-r.err")"
    else
        crs_fail "later: the original: $(crs_status_text "$st"): $(head -n 1 "$d/orig.err")"
    fi
else
    crs_note "later: not tried (ending a TIME-WAIT needs root)"
fi
crs_summary tcp_pending
