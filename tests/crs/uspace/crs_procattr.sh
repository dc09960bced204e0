#!/bin/sh
# State test: the process's and each thread's attributes (nice value,
# scheduling policy, CPU affinity, timer slack, no_new_privs, name,
# personality, dumpable, umask, limits, ...) are the program's again after a
# restart in its flavours (issue 10 review MEDIUM-3: nice, policy,
# affinity, timer slack, no_new_privs, personality, dumpable and
# RLIMIT_CORE 0/0 came back as cr_restart's).
# flavours: "state" nopid by default (a caller's CRS_FLAVOURS wins); the state ones (cr_cycle.sh)
# act on the program's state; nopid: each thread's nice value, policy, affinity, slack and name set
# again by thread ids that change
export CRS_FLAVOURS=${CRS_FLAVOURS:-"state nopid"}
exec bash "$(dirname "$0")/../cr_cycle.sh" crt_procattr
