#!/bin/sh
# State test: a periodic ITIMER_REAL whose SIGALRM is pending at the checkpoint (crt_itimer.c;
# newuser10 F4: gone after a restart, a program waiting for ticks hung): every flavour.
exec bash "$(dirname "$0")/../cr_cycle.sh" crt_itimer
