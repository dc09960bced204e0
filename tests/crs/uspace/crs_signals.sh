#!/bin/sh
# State test: signal handlers, mask, pending signal, alternate stack, itimer, rlimits; its flavours.
# flavours: "state" term sigdeath by default (a caller's CRS_FLAVOURS wins); the state ones
# (cr_cycle.sh) act on the program's state; term, sigdeath: SIGTERM to the original and to the
# restarted process meet its handlers, mask and pending signals
export CRS_FLAVOURS=${CRS_FLAVOURS:-"state term sigdeath"}
exec bash "$(dirname "$0")/../cr_cycle.sh" crt_signals
