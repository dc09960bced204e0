#!/bin/sh
# State test: the process's and each thread's attributes (nice value,
# scheduling policy, CPU affinity, timer slack, no_new_privs, name,
# personality, dumpable, umask, limits, ...) are the program's again after a
# restart in every flavour (issue 10 review MEDIUM-3: nice, policy,
# affinity, timer slack, no_new_privs, personality, dumpable and
# RLIMIT_CORE 0/0 came back as cr_restart's).
exec bash "$(dirname "$0")/../cr_cycle.sh" crt_procattr
