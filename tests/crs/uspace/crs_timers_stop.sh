#!/bin/bash
# cr_checkpoint --stop of a program with a SIGEV_THREAD timer, continued only once the timer's
# signal (32, for libcr's helper thread "revive-timers", which keeps it blocked between its
# sigtimedwait calls) is pending: the program must go on and finish as uninterrupted. The
# waiting is a condition, so the test does what crs_timers' "stop" flavour did only at load (a
# SIGCONT after the timer fired): the helper, let go from its park, resumed its interrupted wait
# under glibc's pthread_sigmask, which never blocks signal 32, and the pending signal killed the
# program (status 160; crs_timers "stop" timed out or died in CI).
. "$(dirname "$0")/../crs_lib.sh"
crs_setup crs_timers_stop
crs_need_tools cr_run cr_checkpoint
d=$WORK/prog
crs_start_or_end "setup: crt_timers under cr_run never got ready" "$d" "$CRS_TOOLS/cr_run" "$CRS_BIN/crt_timers"
crs_tool "$WORK/ck" cr_checkpoint --stop -f "$WORK/img" "$PID" ||
    { crs_fail "cr_checkpoint --stop: $(crs_status_text $?)"; crs_show "$WORK/ck.err"; }
# signal 32 pending for the helper thread (bit 31 of its SigPnd) while the program is stopped
helper_pending() {
    local t
    for t in /proc/$PID/task/*; do
        [ "$(cat "$t/comm" 2>/dev/null)" = revive-timers ] || continue
        [ $(( 0x$(sed -n 's/^SigPnd:[[:space:]]*//p' "$t/status") >> 31 & 1 )) = 1 ] && return 0
    done
    return 1
}
i=0
until helper_pending; do
    i=$((i + 1))
    if [ $i -ge 1500 ]; then
        crs_fail "the thread timer's signal never became pending for libcr's helper while stopped"
        break
    fi
    sleep 0.02
done
state=$(sed 's/.*) \(.\).*/\1/' "/proc/$PID/stat" 2>/dev/null)
[ "$state" = T ] || crs_fail "the process state after --stop is '$state', expected T"
touch "$d/go.1"
kill -CONT "$PID"
crs_finish "$d" orig && crs_pass "continued with the timer's signal pending: the program finished as uninterrupted" ||
    { crs_fail "the program after SIGCONT: status $FINISH_STATUS"; tail -n 3 "$d/orig.out" | sed "s/^/   | /"; crs_show "$d/orig.err"; }
# cr_info says what the SIGEV_THREAD timer is (the program's callback in new threads), not
# "thread-signal SIG32 to tid N", libcr's helper's means to serve it (newuser10 L2); the
# SIGEV_THREAD_ID timer directed to a worker keeps its words
if crs_tool "$WORK/info" cr_info "$WORK/img"; then
    sed -n '/^timers:/,/^[a-z]/p' "$WORK/info.out" >"$WORK/timers"
    grep -q "notify thread (SIGEV_THREAD: each expiry starts the program's callback in a new thread" "$WORK/timers" &&
        ! grep -q "SIG32" "$WORK/timers" && grep -q "notify thread-signal SIG[0-9A-Z+]* to tid" "$WORK/timers" &&
        crs_pass "cr_info names the SIGEV_THREAD timer as such" ||
        { crs_fail "cr_info's timers"; sed "s/^/   | /" "$WORK/timers"; }
else
    crs_fail "cr_info: $(head -n 1 "$WORK/info.err")"
fi
crs_summary crs_timers_stop
