#!/bin/bash
# State test: edge-triggered epoll watches whose edge the program consumed
# (the file still readable) and one-shot watches that fired are not reported
# again after a restart, while waiting edges and armed one-shots are, in
# every flavour, and the original's ready lists stay as they were (cont,
# fork) (review HIGH-5: a restart reported the consumed edges again, and the
# fired one-shot fired again). Also a signalfd's and an inotify's consumed
# edges (review HIGH-C: the restart's queued signals and libcr's inotify
# filler event made them again, the filler in the original too) and nested
# epolls watched edge-triggered (review HIGH-1). Then cr_info must list as
# consumed exactly the edge-triggered watches whose file was ready and whose
# edge was returned, not the one of a pipe never written (review LOW: it was
# recorded consumed, and a restart read off any edge that came meanwhile).
# Also watches that share one epoll_data value, registered in both orders
# (issue 10: told apart by order, the waiting EPOLLIN edge of one was taken for
# the consumed EPOLLOUT edge of the other).
. "$(dirname "$0")/../crs_lib.sh"
crs_setup crs_epollet
crs_need_tools cr_run cr_checkpoint cr_info
if CRS_FLAVOURS="run kill twice nopid rr cont fork term compress stdoutfile tty sigdeath" \
    bash "$(dirname "$0")/../cr_cycle.sh" crt_epollet; then
    crs_pass "every flavour but busy and stop"
else
    crs_fail "the flavours above"
fi
# stop without the signalfd: --stop's SIGSTOP and the SIGCONT after it wake every signalfd
# (a new edge, as they would without a checkpoint)
if CRS_FLAVOURS=stop bash "$(dirname "$0")/../cr_cycle.sh" crt_epollet nosignalfd; then
    crs_pass "stop (no signalfd)"
else
    crs_fail "stop (no signalfd)"
fi
# busy without the inotify: the original and the restart would see each other's files
if CRS_FLAVOURS=busy bash "$(dirname "$0")/../cr_cycle.sh" crt_epollet noinotify; then
    crs_pass "busy (no inotify)"
else
    crs_fail "busy (no inotify)"
fi
d=$WORK/info
crs_start_or_end "info: the program never got ready" "$d" "$CRS_TOOLS/cr_run" "$CRS_BIN/crt_epollet"
crs_tool "$WORK/ck" cr_checkpoint --cont -f "$WORK/img" "$PID" ||
    crs_fail "info: cr_checkpoint --cont: $(head -n 1 "$WORK/ck.err")"
crs_tool "$WORK/cri" cr_info "$WORK/img"
# the data of each watch cr_info shows with its edge consumed, in order
got=$(grep -o 'data 0x[0-9a-f]*, edge consumed' "$WORK/cri.out" | sed 's/data //; s/, edge consumed//' | LC_ALL=C sort | tr '\n' ' ')
want="0x1 0x1000 0x200 0x20000 0x20000 0x400 0x4000 0x80 "
[ "$got" = "$want" ] && crs_pass "cr_info: consumed exactly A, H, I, J, K, K2 and the two SW (not N, whose pipe is empty, nor the SR, nor the signalfd W, whose edge waits)" ||
    crs_fail "cr_info: the watches with their edge consumed: '$got', expected '$want'"
crs_finish "$d" orig || crs_fail "info: the original after the checkpoint: $(crs_status_text "$FINISH_STATUS")"
crs_summary crs_epollet
