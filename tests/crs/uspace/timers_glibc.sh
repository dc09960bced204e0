#!/bin/bash
# A SIGEV_THREAD timer that glibc serves itself (CRT_TIMERS_GLIBC=1: made past
# libcr's timer_create, as by a library loaded before libcr): glibc's helper
# thread blocks every signal and cannot be stopped, so cr_checkpoint must
# refuse in one line that names the thread's signal mask and glibc's helper
# threads, within the park timeout (REVIVE_PARK_TIMEOUT_S: 3 s here, not the
# default 10 s this test waited out), leaving no image; the program runs on.
# (Made through libcr, as crs_timers.sh does, the timer is restored.)
. "$(dirname "$0")/../crs_lib.sh"
crs_setup timers_glibc
crs_need_tools cr_run cr_checkpoint
export CRT_TIMERS_GLIBC=1
d=$WORK/prog
crs_start_or_end "setup: crt_timers under cr_run never got ready" "$d" "$CRS_TOOLS/cr_run" "$CRS_BIN/crt_timers"
t0=$(date +%s%N)
REVIVE_PARK_TIMEOUT_S=3 crs_tool "$WORK/ck" cr_checkpoint -f "$WORK/img" "$PID"
st=$? ms=$((($(date +%s%N) - t0) / 1000000))
[ $ms -lt 9000 ] || crs_fail "the refusal came after $ms ms: REVIVE_PARK_TIMEOUT_S=3 was not used"
crs_expect_refusal "a checkpoint with glibc's timer helper thread" "$WORK/ck.err" $st "blocks every signal"
[ -e "$WORK/img" ] && crs_fail "the refused checkpoint left an image"
crs_finish "$d" orig && crs_pass "the program ran on" || crs_fail "the program after the refusal: $FINISH_STATUS"
crs_summary timers_glibc
