#!/bin/sh
# State test: 8 threads with mutexes, condition variables and TLS, every flavour.
exec bash "$(dirname "$0")/../cr_cycle.sh" crt_threads
