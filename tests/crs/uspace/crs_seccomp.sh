#!/bin/sh
# State test: the seccomp filters a program installed on itself (one for
# every thread with TSYNC, one for the main thread and the thread it starts
# after) still forbid what they forbade after a restart, in its flavours,
# and allowed calls still work (issue 10 review HIGH-8: a restart dropped
# them without a word).
# flavours: "state" run nopid by default (a caller's CRS_FLAVOURS wins); the state ones
# (cr_cycle.sh) act on the program's state; run: libcr under the filters (TSYNC, per-thread) with
# no checkpoint; nopid: each thread's filters installed again on threads whose ids changed
# (diffrev25 C-M1)
export CRS_FLAVOURS=${CRS_FLAVOURS:-"state run nopid"}
exec bash "$(dirname "$0")/../cr_cycle.sh" crt_seccomp
