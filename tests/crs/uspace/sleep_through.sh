#!/bin/bash
# Checkpoints taken while a process sleeps must not cut its sleeps short
# (the kernel makes an interrupted sleep return EINTR when a handler runs;
# Revive finishes it instead). Three checkpoints (--cont) land in the three
# sleeps of crt_sleeper, timed from its checkpoint point 1.
. "$(dirname "$0")/../crs_lib.sh"
crs_setup sleep_through
crs_need_tools cr_run cr_checkpoint
d=$WORK/run
mkdir -p "$d"
touch "$d/go.1" "$d/go.2"
if ! crs_start "$d" orig "$CRS_TOOLS/cr_run" "$CRS_BIN/crt_sleeper"; then
    crs_fail "crt_sleeper under cr_run never started"
    crs_show "$d/orig.err"
    crs_summary sleep_through
fi
for at in 0.7 1.6 1.2; do # inside sleep(2), usleep(1.5 s), nanosleep(1 s)
    sleep "$at"
    crs_tool "$WORK/ck" cr_checkpoint -f "$WORK/img" "$PID" ||
        crs_fail "checkpoint at +$at s: $(crs_status_text $?): $(head -n 1 "$WORK/ck.err")"
done
st=$(crs_wait_status "$d/orig")
if [ "$st" = 42 ] && tail -n 1 "$d/orig.out" | grep -q ' RESULT ok$'; then
    crs_pass "every sleep lasted its full time"
else
    crs_fail "crt_sleeper: $(crs_status_text "$st")"
fi
crs_show "$d/orig.out" 20
crs_summary sleep_through
