#!/bin/bash
# State test: standard signals and POSIX timers' signals pending at a
# checkpoint keep their siginfo (crt_sigstd): kill(2), sigqueue(3) and
# SIGCHLD from a child (sender, code, value, status), tgkill(2) to a
# second thread (SI_TKILL, sender), a timer's standard and real-time signal
# (SI_TIMER, id, value); its flavours, the running process of cont and fork
# included, each compared with an uninterrupted run; setuid/setgid return
# beside libcr's SIGEV_THREAD timer thread (it blocked SIGSETXID: a hang).
# flavours: "state" term nopid by default (a caller's CRS_FLAVOURS wins); the state ones
# (cr_cycle.sh) act on the program's state; term: the original's SIGTERM among the pending
# standard signals; nopid: SIGURG and SIGWINCH queued to the second thread by id (SI_TKILL), put
# back to a thread whose id changed (diffrev25 C-M1)
export CRS_FLAVOURS=${CRS_FLAVOURS:-"state term nopid"}
. "$(dirname "$0")/../crs_lib.sh"
crs_setup crs_sigstd
if bash "$(dirname "$0")/../cr_cycle.sh" crt_sigstd; then
    crs_pass "its flavours"
else
    crs_fail "the flavours above"
fi
crs_summary crs_sigstd
