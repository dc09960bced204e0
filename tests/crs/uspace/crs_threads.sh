#!/bin/sh
# State test: 8 threads with mutexes, condition variables and TLS, its flavours.
# flavours: "state" nopid by default (a caller's CRS_FLAVOURS wins); the state ones (cr_cycle.sh)
# act on the program's state; nopid: pthread_kill to each worker through glibc's cached thread ids,
# which change
export CRS_FLAVOURS=${CRS_FLAVOURS:-"state nopid"}
exec bash "$(dirname "$0")/../cr_cycle.sh" crt_threads
