#!/bin/sh
# State test: a thread busy in user code, error-checking mutexes held across
# the checkpoint, glibc's cached ids, a heap block; every flavour (as root the
# original PID comes back, also beside the running original in "busy").
exec bash "$(dirname "$0")/../cr_cycle.sh" crt_ids
