#!/bin/bash
# A program under cr_run forking in a tight loop while checkpoints are asked of it (issue 7: a
# descriptor a thread of Revive's holds for a moment was copied into a child forked then; here
# libcr's thread: a request's connection and image file, the /proc files the park reads while the
# program's threads run; src/crs/libcr/fork_guard.h). REVIVE_FAULT=fork-window-wide holds each
# /proc descriptor of Revive's 20 ms longer. 12 cr_checkpoint requests while crt_forkloop's thread
# forks: each is taken or refused for the child it had at that moment (one process's image keeps
# no child; the refusal names it); at least one must be taken. No child may hold a descriptor the
# program did not (crt_forkloop.c: the children look at their own), and the program then ends
# with its checks passed. ~10 s.
. "$(dirname "$0")/../crs_lib.sh"
crs_setup crs_forkloop
crs_need_tools cr_run cr_checkpoint
d=$WORK/run
REVIVE_FAULT=fork-window-wide crs_start_or_end "the program never got ready" "$d" "$CRS_TOOLS/cr_run" \
    "$CRS_BIN/crt_forkloop"
taken=0 refused=0 other=0
for k in $(seq 12); do
    if crs_tool "$WORK/ck$k" cr_checkpoint -f "$WORK/img$k" "$PID"; then
        taken=$((taken + 1))
    elif grep -q 'child' "$WORK/ck$k.err"; then
        refused=$((refused + 1))
    else
        other=$((other + 1))
        crs_note "request $k: $(head -n 2 "$WORK/ck$k.err")"
    fi
done
[ $other = 0 ] && crs_pass "12 requests while the program forked: $taken taken, $refused refused for its child" ||
    crs_fail "$other of 12 requests failed otherwise than for the program's child"
[ $taken -gt 0 ] || crs_fail "no request was taken (the test proves less: every park found a child)"
if crs_finish "$d" orig; then
    crs_pass "no child held a descriptor the program did not have"
else
    crs_fail "the program after the requests: $(crs_status_text "$FINISH_STATUS")"
    crs_show "$d/orig.out"
    grep -h 'holds descriptor' "$d/orig.err" | sed 's/[0-9][0-9]*/N/g' | sort | uniq -c | head -n 6
fi
crs_summary crs_forkloop
