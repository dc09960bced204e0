#!/bin/bash
# State test: a staged sandbox (a worker's first seccomp filter forbids
# openat, its second and its child thread's third go in afterwards) runs
# under cr_run and comes back after a restart in every flavour, as the
# uninterrupted run (diffrev19 MEDIUM-K: libcr read /proc at each install,
# which the first filter forbade, and every checkpoint was refused).
# Then the same program whose main thread first installed a filter for every
# thread (TSYNC) that forbids openat of a directory as libcr opens /proc's
# (CRT_SECCOMP_STAGED=errno: fails with EACCES; kill: ends the process):
# cr_checkpoint is refused in one line naming that filter, before anything
# is parked, and the program runs on to the uninterrupted run's end. Before,
# the checkpoint thread's first such open failed the capture halfway, or
# ended the process.
. "$(dirname "$0")/../crs_lib.sh"
crs_setup crs_seccomp_staged
if bash "$(dirname "$0")/../cr_cycle.sh" crt_seccomp_staged; then
    crs_pass "a staged sandbox: every flavour"
else
    crs_fail "a staged sandbox: the flavours above"
fi
crs_need_tools cr_run cr_checkpoint
prog=$CRS_BIN/crt_seccomp_staged
for mode in errno kill; do
    st=$(CRT_SECCOMP_STAGED=$mode crs_uninterrupted "$WORK/ref.$mode" out "$prog")
    [ "$st" = 42 ] || crs_fail "$mode: the uninterrupted run: $(crs_status_text "$st")"
    d=$WORK/$mode
    CRT_SECCOMP_STAGED=$mode crs_start_or_end "$mode: the program never got ready" "$d" "$CRS_TOOLS/cr_run" "$prog"
    crs_tool "$WORK/ck.$mode" cr_checkpoint -f "$WORK/$mode.img" "$PID"
    crs_expect_refusal "$mode: a TSYNC filter forbidding openat refuses the checkpoint" "$WORK/ck.$mode.err" $? \
        "seccomp filter 1 of those it installed"
    if crs_finish "$d" orig && cmp -s "$WORK/ref.$mode/out.out" "$d/orig.out"; then
        crs_pass "$mode: the program ran on to the uninterrupted run's end"
    else
        crs_fail "$mode: after the refusal: $(crs_status_text "$FINISH_STATUS")$(cmp -s "$WORK/ref.$mode/out.out" "$d/orig.out" || echo ", output differs")"
        crs_show "$d/orig.err"
    fi
done
crs_summary crs_seccomp_staged
