#!/bin/bash
# State test: a periodic ITIMER_REAL whose SIGALRM is pending at the checkpoint (crt_itimer.c;
# newuser10 F4: gone after a restart, a program waiting for ticks hung): every flavour. Then
# cr_info of an image taken at point 1 shows both interval timers (newuser10 F7: not shown):
# ITIMER_REAL with its SIGALRM pending, every 0.010000 s, ITIMER_VIRTUAL every 0.005000 s, and
# --json their values and intervals.
. "$(dirname "$0")/../crs_lib.sh"
crs_setup crs_itimer
if bash "$(dirname "$0")/../cr_cycle.sh" crt_itimer; then
    crs_pass "every flavour"
else
    crs_fail "the flavours above"
fi
crs_need_tools cr_run cr_checkpoint cr_info
d=$WORK/info
crs_start_or_end "crt_itimer never got ready" "$d" "$CRS_TOOLS/cr_run" "$CRS_BIN/crt_itimer"
crs_tool "$WORK/ck" cr_checkpoint --cont -f "$WORK/img" "$PID" || crs_fail "cr_checkpoint --cont: $(head -n 1 "$WORK/ck.err")"
crs_finish "$d" orig || crs_fail "the original after its checkpoint: $FINISH_STATUS"
crs_tool "$WORK/info" cr_info "$WORK/img"
if grep -q "ITIMER_REAL: its SIGALRM pending (armed again at restart for one interval), every 0.010000 s" "$WORK/info.out" &&
    grep -q "ITIMER_VIRTUAL: .* s left, every 0.005000 s" "$WORK/info.out"; then
    crs_pass "cr_info shows ITIMER_REAL with its SIGALRM pending and ITIMER_VIRTUAL, each with its interval"
else
    crs_fail "cr_info does not show the interval timers: $(grep -i itimer "$WORK/info.out" | tr '\n' ' ')"
fi
crs_tool "$WORK/json" cr_info --json "$WORK/img"
if grep -q '"itimer_real_value_us": 0, "itimer_real_interval_us": 10000' "$WORK/json.out" &&
    grep -q '"itimer_virtual_interval_us": 5000' "$WORK/json.out"; then
    crs_pass "cr_info --json gives both interval timers"
else
    crs_fail "cr_info --json: $(grep -o '"itimer[^,]*' "$WORK/json.out" | tr '\n' ' ')"
fi
crs_summary crs_itimer
