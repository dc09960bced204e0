#!/bin/sh
# State test: a thread busy in user code, error-checking mutexes held across
# the checkpoint, glibc's cached ids, a heap block; its flavours (as root the
# original PID comes back, also beside the running original in "busy").
# flavours: "state" nopid by default (a caller's CRS_FLAVOURS wins); the state ones (cr_cycle.sh)
# act on the program's state; nopid: getpid/gettid and glibc's cached tid must follow a restart
# under another PID
export CRS_FLAVOURS=${CRS_FLAVOURS:-"state nopid"}
exec bash "$(dirname "$0")/../cr_cycle.sh" crt_ids
