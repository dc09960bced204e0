#!/bin/bash
# State test: the CPU-time clocks go on across a restart (crt_cputime.c; newuser8 F2: clock(),
# CLOCK_PROCESS_CPUTIME_ID/CLOCK_THREAD_CPUTIME_ID, times() and getrusage() started again from 0
# in a restarted process, and a program timing its CPU use got a negative difference): each
# clock reads at least what it read before each point, in every flavour of cr_cycle.sh that
# acts on a program's state, and term.
. "$(dirname "$0")/../crs_lib.sh"
crs_setup crs_cputime
if CRS_FLAVOURS="${CRS_FLAVOURS:-state term}" bash "$(dirname "$0")/../cr_cycle.sh" crt_cputime; then
    crs_pass "every flavour"
else
    crs_fail "the flavours above"
fi
crs_summary crs_cputime
