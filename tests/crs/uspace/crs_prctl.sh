#!/bin/bash
# State test (issue 10): what prctl and capset leave on a process. crt_prctl's
# parent-death signals (per thread: SIGUSR1 on the main thread, SIGUSR2 on
# another, none on a third) and child subreaper come back, its flavours
# (before, a restart lost them without a word). As root: a process that
# dropped CAP_NET_RAW (effective, permitted) and CAP_SYS_BOOT (bounding
# set) and keeps CAP_NET_BIND_SERVICE inheritable and ambient
# (CRT_PRCTL=caps) comes back with every thread's five sets as they were,
# restarted by a plain cr_restart, and finishes as the uninterrupted run
# (before, the restart was refused for the capabilities cr_restart held,
# and inheritable and ambient sets were lost); a cr_restart without
# CAP_NET_BIND_SERVICE (capsh --drop) is refused naming it. A process one
# of whose threads dropped a capability alone and whose threads have
# securebits of their own (CRT_PRCTL=threadcaps) comes back with each
# thread's own, its flavours (before, the checkpoint was refused naming
# the thread, and securebits were lost); cr_info shows them; a cr_restart
# without CAP_SETPCAP is refused naming the securebits it cannot set.
# flavours: "state" nopid by default (a caller's CRS_FLAVOURS wins); the state ones (cr_cycle.sh)
# act on the program's state; nopid: per-thread parent-death signals and the subreaper set by
# thread ids that change
export CRS_FLAVOURS=${CRS_FLAVOURS:-"state nopid"}
. "$(dirname "$0")/../crs_lib.sh"
crs_setup crs_prctl
if bash "$(dirname "$0")/../cr_cycle.sh" crt_prctl; then
    crs_pass "parent-death signals and subreaper: its flavours"
else
    crs_fail "parent-death signals and subreaper: the flavours above"
fi
[ "$(id -u)" = 0 ] || { echo "SKIP: capabilities: not root"; crs_summary crs_prctl; }
command -v capsh >/dev/null || { echo "SKIP: capabilities: no capsh"; crs_summary crs_prctl; }
crs_need_tools cr_run cr_checkpoint cr_restart
prog=$CRS_BIN/crt_prctl
st=$(CRT_PRCTL=caps crs_uninterrupted "$WORK/ref" out "$prog")
[ "$st" = 42 ] || crs_fail "caps: the uninterrupted run: $(crs_status_text "$st")"
crs_after_point 1 "$WORK/ref/out.out" >"$WORK/ref.after1"
d=$WORK/caps
CRT_PRCTL=caps crs_start_or_end "caps: the program never got ready" "$d" "$CRS_TOOLS/cr_run" "$prog"
crs_tool "$WORK/ck" cr_checkpoint --kill -f "$WORK/caps.img" "$PID" ||
    crs_fail "caps: cr_checkpoint --kill: $(head -n 1 "$WORK/ck.err")"
crs_wait_status "$d/orig" 30 >/dev/null
touch "$d/go.1" "$d/go.2"
crs_tool "$WORK/ci" cr_info "$WORK/caps.img" && grep -q "capabilities: .*ambient 0x400, .*(every thread)" "$WORK/ci.out" &&
    crs_pass "cr_info shows the capability sets (CAP_NET_BIND_SERVICE ambient)" ||
    crs_fail "cr_info does not show the capability sets: $(grep capabilities "$WORK/ci.out")"
st=$(cd "$d" && crs_run "$WORK/r1" capsh --drop=cap_net_bind_service -- -c "exec '$CRS_TOOLS/cr_restart' '$WORK/caps.img'")
crs_expect_refusal "a restart without a capability the process kept" "$WORK/r1.err" "$st" "cap_net_bind_service"
st=$(cd "$d" && crs_run "$WORK/r2" "$CRS_TOOLS/cr_restart" "$WORK/caps.img")
crs_expect_run "caps: restarted, every thread's capability sets as they were; it finishes as the uninterrupted run" \
    "$WORK/ref.after1" "$WORK/r2" "$st"
# threads with capability sets and securebits of their own: its flavours
if CRT_PRCTL=threadcaps bash "$(dirname "$0")/../cr_cycle.sh" crt_prctl; then
    crs_pass "threadcaps: each thread's capability sets and securebits, its flavours"
else
    crs_fail "threadcaps: the flavours above"
fi
st=$(CRT_PRCTL=threadcaps crs_uninterrupted "$WORK/tref" out "$prog")
[ "$st" = 42 ] || crs_fail "threadcaps: the uninterrupted run: $(crs_status_text "$st")"
crs_after_point 1 "$WORK/tref/out.out" >"$WORK/tref.after1"
d=$WORK/threadcaps
CRT_PRCTL=threadcaps crs_start_or_end "threadcaps: the program never got ready" "$d" "$CRS_TOOLS/cr_run" "$prog"
crs_tool "$WORK/tc" cr_checkpoint --kill -f "$WORK/tc.img" "$PID" ||
    crs_fail "threadcaps: cr_checkpoint --kill: $(head -n 1 "$WORK/tc.err")"
crs_wait_status "$d/orig" 30 >/dev/null
touch "$d/go.1" "$d/go.2"
crs_tool "$WORK/tci" cr_info "$WORK/tc.img" && grep -q "threads with capabilities of their own: 1" "$WORK/tci.out" &&
    grep -q "securebits 0x4$" "$WORK/tci.out" && grep -q "securebits 0x14$" "$WORK/tci.out" &&
    crs_pass "cr_info shows the thread's own capability sets and each thread's securebits" ||
    crs_fail "cr_info does not show the threads' own sets and securebits: $(grep -i 'securebits\|own:' "$WORK/tci.out")"
st=$(cd "$d" && crs_run "$WORK/tr1" capsh --drop=cap_setpcap -- -c "exec '$CRS_TOOLS/cr_restart' '$WORK/tc.img'")
crs_expect_refusal "a restart that cannot set the threads' securebits" "$WORK/tr1.err" "$st" "securebits 0x4"
st=$(cd "$d" && crs_run "$WORK/tr2" "$CRS_TOOLS/cr_restart" "$WORK/tc.img")
crs_expect_run "threadcaps: restarted, each thread with its own sets and securebits; it finishes as the uninterrupted run" \
    "$WORK/tref.after1" "$WORK/tr2" "$st"
crs_summary crs_prctl
