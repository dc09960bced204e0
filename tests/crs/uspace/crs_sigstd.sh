#!/bin/bash
# State test: standard signals and POSIX timers' signals pending at a
# checkpoint keep their siginfo (crt_sigstd): kill(2), sigqueue(3) and
# SIGCHLD from a child (sender, code, value, status), tgkill(2) to a
# second thread (SI_TKILL, sender), a timer's standard and real-time signal
# (SI_TIMER, id, value); every flavour, the running process of cont and fork
# included, each compared with an uninterrupted run; setuid/setgid return
# beside libcr's SIGEV_THREAD timer thread (it blocked SIGSETXID: a hang).
. "$(dirname "$0")/../crs_lib.sh"
crs_setup crs_sigstd
if bash "$(dirname "$0")/../cr_cycle.sh" crt_sigstd; then
    crs_pass "every flavour"
else
    crs_fail "the flavours above"
fi
crs_summary crs_sigstd
