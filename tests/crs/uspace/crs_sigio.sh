#!/bin/sh
# State test: signal-driven I/O (O_ASYNC, F_SETOWN to the process, F_SETOWN_EX
# to a thread, F_SETOWN to the process group, F_SETSIG) and the status flags
# O_APPEND and O_NOATIME come back after a restart in its flavours (issue 10
# review HIGH-7: O_ASYNC, the owner and the signal were lost, so a program
# waiting for SIGIO never got it again).
# flavours: "state" nopid by default (a caller's CRS_FLAVOURS wins); the state ones (cr_cycle.sh)
# act on the program's state; nopid: F_SETOWN/F_SETOWN_EX owners are a PID, a thread id and a
# process group that change
export CRS_FLAVOURS=${CRS_FLAVOURS:-"state nopid"}
exec bash "$(dirname "$0")/../cr_cycle.sh" crt_sigio
