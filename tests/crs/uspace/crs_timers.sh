#!/bin/sh
# State test: POSIX timers of every notification kind (signal, none, thread,
# thread-directed, with a value, never armed, process CPU time; ids with a
# gap): ids, time left, intervals and notifications after each point; every
# flavour.
exec bash "$(dirname "$0")/../cr_cycle.sh" crt_timers
