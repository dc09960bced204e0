#!/bin/bash
# A SIGEV_THREAD timer that glibc serves itself (CRT_TIMERS_GLIBC=1: made past
# libcr's timer_create, as by a library loaded before libcr): glibc's helper
# thread blocks every signal and cannot be stopped, so cr_checkpoint must
# refuse in one line that names the thread's signal mask and glibc's helper
# threads, within the park timeout (10 s), leaving no image; the program
# runs on. (Made through libcr, as crs_timers.sh does, the timer is restored.)
. "$(dirname "$0")/../crs_lib.sh"
crs_setup timers_glibc
crs_need_tools cr_run cr_checkpoint
export CRT_TIMERS_GLIBC=1
d=$WORK/prog
crs_start_or_end "setup: crt_timers under cr_run never got ready" "$d" "$CRS_TOOLS/cr_run" "$CRS_BIN/crt_timers"
crs_tool "$WORK/ck" cr_checkpoint -f "$WORK/img" "$PID"
crs_expect_refusal "a checkpoint with glibc's timer helper thread" "$WORK/ck.err" $? "blocks every signal"
[ -e "$WORK/img" ] && crs_fail "the refused checkpoint left an image"
crs_finish "$d" orig && crs_pass "the program ran on" || crs_fail "the program after the refusal: $FINISH_STATUS"
crs_summary timers_glibc
