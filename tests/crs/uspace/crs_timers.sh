#!/bin/sh
# State test: POSIX timers of every notification kind (signal, none, thread,
# thread-directed, with a value, never armed, process CPU time; ids with a
# gap): ids, time left, intervals and notifications after each point; every
# flavour.
# flavours: "state" nopid by default (a caller's CRS_FLAVOURS wins); the state ones (cr_cycle.sh)
# act on the program's state; nopid: a SIGEV_THREAD_ID timer directed to a worker's thread id,
# which changes
export CRS_FLAVOURS=${CRS_FLAVOURS:-"state nopid"}
exec bash "$(dirname "$0")/../cr_cycle.sh" crt_timers
