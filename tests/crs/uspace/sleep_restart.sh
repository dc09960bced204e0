#!/bin/bash
# A sleep interrupted by a checkpoint goes on to its end (Revive's park signal is not the
# application's): through two checkpoints in one wait (the second lands in the wait the first
# one resumed, whose kernel restart state the first park's return has reset) and through
# cr_checkpoint --kill + cr_restart (the restarted process has no restart state at all): sleep,
# usleep (no rem) and an absolute clock_nanosleep must return 0, never EINTR, and last as long as
# asked (crt_sleep_cr.c). Each checkpoint waits until the program is inside its sleep (a
# condition: /proc/PID/syscall, clock_nanosleep), never a fixed delay.
. "$(dirname "$0")/../crs_lib.sh"
crs_setup sleep_restart
crs_need_tools cr_run cr_checkpoint cr_restart
d=$WORK/run
mkdir -p "$d"
for n in 1 2 10 11 12 13; do touch "$d/go.$n"; done
crs_start_or_end "crt_sleep_cr under cr_run never started" "$d" "$CRS_TOOLS/cr_run" "$CRS_BIN/crt_sleep_cr"
# in_sleep K: waits for point 10+K, sets PID, then for the main thread inside clock_nanosleep
in_sleep() {
    local i=0
    crs_wait_for "$d/ready.$((10 + $1))" 60 || return 1
    PID=$(cat "$d/ready.$((10 + $1))")
    until [ "$(cut -d' ' -f1 "/proc/$PID/syscall" 2>/dev/null)" = "$(printf %d 230)" ]; do
        i=$((i + 1))
        [ $i -ge 3000 ] && return 1
        sleep 0.02
    done
}
ckpt() { # ckpt WHAT ARGS...: one checkpoint of $PID
    local what=$1
    shift
    crs_tool "$WORK/ck" cr_checkpoint "$@" -f "$WORK/img" "$PID" || {
        crs_fail "$what: cr_checkpoint: $(crs_status_text $?): $(head -n 1 "$WORK/ck.err")"
        return 1
    }
}
out=$d/orig
if in_sleep 0; then
    ckpt "usleep, checkpoint 1" && ckpt "usleep, checkpoint 2"
else
    crs_fail "the program never reached its first sleep"
fi
for k in 1 2 3; do
    if ! in_sleep $k; then
        crs_fail "sleep $k: the program never reached it"
        break
    fi
    ckpt "sleep $k" --kill || break
    crs_wait_status "$out" 30 >/dev/null
    out=$d/r$k
    (cd "$d" && crs_launch "$out" "$CRS_TOOLS/cr_restart" "$WORK/img")
done
st=$(crs_wait_status "$out")
if [ "$st" = 42 ] && tail -n 1 "$out.out" | grep -q ' RESULT ok$'; then
    crs_pass "every sleep returned 0 after its full time, through checkpoints and restarts"
else
    crs_fail "crt_sleep_cr: $(crs_status_text "$st")"
    cat "$d"/orig.out "$d"/r?.out 2>/dev/null | grep -E 'FAIL|RESULT' | sed 's/^/   | /'
    crs_show "$out.err"
fi
crs_summary sleep_restart
