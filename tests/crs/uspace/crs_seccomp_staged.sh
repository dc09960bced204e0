#!/bin/bash
# State test: a staged sandbox (a worker's first seccomp filter forbids
# openat, its second and its child thread's third go in afterwards) runs
# under cr_run and comes back after a restart in its flavours, as the
# uninterrupted run (diffrev19 MEDIUM-K: libcr read /proc at each install,
# which the first filter forbade, and every checkpoint was refused).
# Then the same program whose main thread first installed a filter for every
# thread (TSYNC) that forbids openat of a directory as libcr opens /proc's
# (CRT_SECCOMP_STAGED=errno: fails with EACCES; kill: ends the process):
# cr_checkpoint is refused in one line naming that filter, before anything
# is parked, and the program runs on to the uninterrupted run's end. Before,
# the checkpoint thread's first such open failed the capture halfway, or
# ended the process. The same for a TSYNC filter that forbids only getdents64
# (getdents: libcr lists /proc/self/task and /proc/self/fd with it; the refusal
# checked only openat), for rt_sigaction and prlimit64 alone (sigaction,
# rlimit: their failures were recorded as SIG_DFL and limits of 0, so the
# restart lost the handlers and set RLIMIT_CORE and others to 0), and for two filters as the kernel ranks them (every
# filter runs, the most restrictive action wins, on a tie the newest
# filter's): tie (openat of a directory fails with EACCES in filter 1, EPERM
# in filter 2: the kernel's EPERM, filter 2, was named as filter 1's EACCES)
# and newer (getdents64 fails with EACCES in filter 1, ends the process in
# filter 2). sigwait (rt_sigtimedwait, with which libcr takes the queued
# signals off) and signalfd (the program holds an edge-triggered signalfd
# watch in an epoll, and the filter ends the process on signalfd4, with
# which libcr's checkpoint thread makes its marker before the park: the
# process died) are refused too (diffrev24 X-L1). Filters that do not stop
# the capture do not refuse the checkpoint (kill flavour): stdin (read of
# descriptor 0 alone fails: the check judged the capture's reads by fd 0 and
# refused every checkpoint, diffrev24 S-L1) and signalfd-errno (signalfd4
# fails: the marker is only left out). fcntl (the filter ends the process on
# fcntl F_GETOWN_EX, which the capture reads of every descriptor: the
# process died mid-capture) and fcntl-stdout (on any fcntl of descriptor 1:
# the check's own probe for a free descriptor ended the process) are refused
# too (diffrev25 T-L5).
# flavours: "state" run nopid by default (a caller's CRS_FLAVOURS wins); the state ones
# (cr_cycle.sh) act on the program's state; run: libcr's installs under a staged sandbox that
# forbids openat, with no checkpoint (diffrev19 MEDIUM-K); nopid: the worker's and its child
# thread's staged filters installed again on threads whose ids changed (diffrev25 C-M1)
export CRS_FLAVOURS=${CRS_FLAVOURS:-"state run nopid"}
. "$(dirname "$0")/../crs_lib.sh"
crs_setup crs_seccomp_staged
if bash "$(dirname "$0")/../cr_cycle.sh" crt_seccomp_staged; then
    crs_pass "a staged sandbox: its flavours"
else
    crs_fail "a staged sandbox: the flavours above"
fi
for mode in stdin signalfd-errno; do
    if CRT_SECCOMP_STAGED=$mode CRS_FLAVOURS=kill bash "$(dirname "$0")/../cr_cycle.sh" crt_seccomp_staged; then
        crs_pass "$mode: a TSYNC filter the capture does not trip on lets the checkpoint be"
    else
        crs_fail "$mode: a TSYNC filter the capture does not trip on: the flavour above"
    fi
done
crs_need_tools cr_run cr_checkpoint
prog=$CRS_BIN/crt_seccomp_staged
# MODE and the words of its refusal
for case in "errno:filter 1 of those it installed makes openat fail (Permission denied)" \
            "kill:filter 1 of those it installed ends the process on openat" \
            "getdents:filter 1 of those it installed makes getdents64 fail (Permission denied)" \
            "sigaction:filter 1 of those it installed makes rt_sigaction fail (Permission denied)" \
            "rlimit:filter 1 of those it installed makes prlimit64 fail (Permission denied)" \
            "tie:filter 2 of those it installed makes openat fail (Operation not permitted)" \
            "newer:filter 2 of those it installed ends the process on getdents64" \
            "sigwait:filter 1 of those it installed makes rt_sigtimedwait fail (Permission denied)" \
            "signalfd:filter 1 of those it installed ends the process on signalfd4" \
            "fcntl:filter 1 of those it installed ends the process on fcntl" \
            "fcntl-stdout:filter 1 of those it installed ends the process on fcntl"; do
    mode=${case%%:*} words="seccomp ${case#*:}"
    st=$(CRT_SECCOMP_STAGED=$mode crs_uninterrupted "$WORK/ref.$mode" out "$prog")
    [ "$st" = 42 ] || crs_fail "$mode: the uninterrupted run: $(crs_status_text "$st")"
    d=$WORK/$mode
    CRT_SECCOMP_STAGED=$mode crs_start_or_end "$mode: the program never got ready" "$d" "$CRS_TOOLS/cr_run" "$prog"
    crs_tool "$WORK/ck.$mode" cr_checkpoint -f "$WORK/$mode.img" "$PID"
    crs_expect_refusal "$mode: TSYNC filters forbidding what the capture does refuse the checkpoint" \
        "$WORK/ck.$mode.err" $? "$words"
    if crs_finish "$d" orig && cmp -s "$WORK/ref.$mode/out.out" "$d/orig.out"; then
        crs_pass "$mode: the program ran on to the uninterrupted run's end"
    else
        crs_fail "$mode: after the refusal: $(crs_status_text "$FINISH_STATUS")$(cmp -s "$WORK/ref.$mode/out.out" "$d/orig.out" || echo ", output differs")"
        crs_show "$d/orig.err"
    fi
done
crs_summary crs_seccomp_staged
