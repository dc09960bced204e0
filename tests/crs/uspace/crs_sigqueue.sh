#!/bin/bash
# State test: signals blocked and read through a signalfd (crt_sigqueue):
# real-time signals queued with values (several of one signal) at each
# point, to the process and to one thread (the main one, another), come
# back each once, in order, to the same thread, with value, SI_QUEUE and
# sender; a
# SIGEV_THREAD timer's callback thread does not take a signal the program
# blocks (under cr_run it once ended the process); its flavours. Then
# cr_info (text and JSON) lists the queued signals of an image.
# flavours: "state" nopid by default (a caller's CRS_FLAVOURS wins); the state ones (cr_cycle.sh)
# act on the program's state; nopid: signals queued to the process and to a thread by id, and their
# sender's PID, under another PID
export CRS_FLAVOURS=${CRS_FLAVOURS:-"state nopid"}
. "$(dirname "$0")/../crs_lib.sh"
crs_setup crs_sigqueue
if bash "$(dirname "$0")/../cr_cycle.sh" crt_sigqueue; then
    crs_pass "its flavours"
else
    crs_fail "the flavours above"
fi
crs_need_tools cr_run cr_checkpoint cr_info
d=$WORK/info
crs_start_or_end "the program never got ready" "$d" "$CRS_TOOLS/cr_run" "$CRS_BIN/crt_sigqueue"
crs_tool "$WORK/ck" cr_checkpoint --cont -f "$WORK/ck.img" "$PID" ||
    crs_fail "cr_checkpoint --cont: $(head -n 1 "$WORK/ck.err")"
crs_finish "$d" orig || crs_fail "the program after cr_checkpoint --cont: $(crs_status_text "$FINISH_STATUS")"
if crs_tool "$WORK/i" cr_info "$WORK/ck.img" && grep -q '^queued signals: 11$' "$WORK/i.out" &&
    [ "$(grep -c 'SIGRTMIN+5 SI_QUEUE (-1) from pid '"$PID"' uid [0-9]*, value 10[0-4]$' "$WORK/i.out")" = 5 ] &&
    grep -q 'SIGRTMIN+6 SI_QUEUE (-1) from pid '"$PID"' uid [0-9]*, value 7$' "$WORK/i.out" &&
    [ "$(grep -c 'SIGRTMIN+7 SI_QUEUE (-1) from pid '"$PID"' uid [0-9]*, value 20[0-2] (to a thread)$' "$WORK/i.out")" = 3 ] &&
    [ "$(grep -c 'SIGRTMIN+8 SI_QUEUE (-1) from pid '"$PID"' uid [0-9]*, value 30[01] (to a thread)$' "$WORK/i.out")" = 2 ]; then
    crs_pass "cr_info lists the 11 queued signals (5 to a thread) with their values and sender"
else
    crs_fail "cr_info does not list the 11 queued signals"
    grep -A12 '^queued' "$WORK/i.out" | sed 's/^/   | /'
fi
if crs_tool "$WORK/j" cr_info --json "$WORK/ck.img" &&
    python3 -c 'import json,sys
q=json.load(open(sys.argv[1]))["queued_signals"]
proc=[x["value"] for x in q if x["tid"] == 0]
thr=[x for x in q if x["tid"] != 0]
assert proc == [100,101,102,103,104,7] and all(x["code_name"] == "SI_QUEUE" for x in q)
assert [x["value"] for x in thr if x["value"] >= 300] == [300,301]
assert [x["value"] for x in thr if x["value"] < 300] == [200,201,202]
assert len({x["tid"] for x in thr if x["value"] >= 300}) == 1 and len({x["tid"] for x in thr}) == 2' "$WORK/j.out"; then
    crs_pass "cr_info --json: queued_signals with values, SI_QUEUE and the thread of each"
else
    crs_fail "cr_info --json does not list the queued signals"
fi
crs_summary crs_sigqueue
