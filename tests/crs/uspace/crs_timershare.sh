#!/bin/sh
# State test: POSIX timers whose signals are queued at the checkpoint, two
# sharing a real-time signal (values are pointers) and two a standard one,
# and a periodic one whose overrun grows while it waits, and two
# thread-directed ones (SIGEV_THREAD_ID) on a worker's queue, one periodic
# (its overrun counted, which a restart once gave as 0): after each point
# each timer's signal comes once with its own id and value, the overrun as
# timer_getoverrun says; every flavour.
exec bash "$(dirname "$0")/../cr_cycle.sh" crt_timershare
