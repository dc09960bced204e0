#!/bin/sh
# State test: /proc after a restart (issue 10, point 5): the process's own
# /proc (/proc/self, /proc/<getpid()>, a held /proc/self/status) is its own
# after its flavours, busy included (the original pid is taken, so the
# restart runs in a pid namespace of its own, where cr_restart mounts it a
# /proc of that namespace); unprivileged.sh covers a user's restart.
# flavours: "state" nopid by default (a caller's CRS_FLAVOURS wins); the state ones (cr_cycle.sh)
# act on the program's state; nopid: /proc/self and /proc/<getpid()> under another PID
export CRS_FLAVOURS=${CRS_FLAVOURS:-"state nopid"}
exec bash "$(dirname "$0")/../cr_cycle.sh" crt_procself
