#!/bin/sh
# State test: the seccomp filters a program installed on itself (one for
# every thread with TSYNC, one for the main thread and the thread it starts
# after) still forbid what they forbade after a restart, in every flavour,
# and allowed calls still work (issue 10 review HIGH-8: a restart dropped
# them without a word).
exec bash "$(dirname "$0")/../cr_cycle.sh" crt_seccomp
