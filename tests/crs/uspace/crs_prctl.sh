#!/bin/bash
# State test (issue 10): what prctl and capset leave on a process. crt_prctl's
# parent-death signals (per thread: SIGUSR1 on the main thread, SIGUSR2 on
# another, none on a third) and child subreaper come back, every flavour
# (before, a restart lost them without a word). As root: a process that
# dropped CAP_NET_RAW (CRT_PRCTL=caps) is not restarted by a cr_restart that
# holds it (one line naming cap_net_raw and the way out; before, it got it
# back); restarted without it (capsh --drop) it finishes as the
# uninterrupted run, CAP_NET_RAW still gone.
. "$(dirname "$0")/../crs_lib.sh"
crs_setup crs_prctl
if bash "$(dirname "$0")/../cr_cycle.sh" crt_prctl; then
    crs_pass "parent-death signals and subreaper: every flavour"
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
crs_tool "$WORK/r1" cr_restart "$WORK/caps.img"
crs_expect_refusal "a restart that would give back a dropped capability" "$WORK/r1.err" $? "cap_net_raw"
st=$(cd "$d" && crs_run "$WORK/r2" capsh --drop=cap_net_raw -- -c "exec '$CRS_TOOLS/cr_restart' '$WORK/caps.img'")
crs_expect_run "caps: restarted without CAP_NET_RAW, it finishes as the uninterrupted run" \
    "$WORK/ref.after1" "$WORK/r2" "$st"
crs_summary crs_prctl
