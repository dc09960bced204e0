#!/bin/bash
# A child forked while a checkpoint's epoll marker is open (diffrev24 G-L1):
# before f11579a it got a copy of libcr's marker signalfd, a descriptor it
# did not know. REVIVE_FAULT=capture-mark-late keeps the marker open 1 s
# before the park, and crt_markfork forks once as soon as it sees it (then
# reaps the child at once, so the park finds none); the child must hold only
# the program's signalfd. The checkpoint (the process runs on) must succeed,
# and the program must have forked inside the window (crt_markfork.forked),
# else the test proved nothing. ~3 s.
. "$(dirname "$0")/../crs_lib.sh"
crs_setup crs_markfork
crs_need_tools cr_run cr_checkpoint
d=$WORK/run
REVIVE_FAULT=capture-mark-late crs_start_or_end "the program never got ready" "$d" "$CRS_TOOLS/cr_run" \
    "$CRS_BIN/crt_markfork"
crs_tool "$WORK/ck" cr_checkpoint -f "$WORK/img" "$PID" && crs_pass "the checkpoint with the marker open 1 s" ||
    crs_fail "cr_checkpoint: $(head -n 2 "$WORK/ck.err")"
[ -e "$d/crt_markfork.forked" ] && crs_pass "the program forked while the marker was open" ||
    crs_fail "the program did not fork while the marker was open (the test proves nothing)"
if crs_finish "$d" orig; then
    crs_pass "the child held only the program's signalfd"
else
    crs_fail "the program after the checkpoint: $(crs_status_text "$FINISH_STATUS")"
    crs_show "$d/orig.out"
fi
crs_summary crs_markfork
