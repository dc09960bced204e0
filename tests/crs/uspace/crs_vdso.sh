#!/bin/sh
# State test: clock_gettime and friends through the vdso after restart; its flavours.
# flavours: "state" by default (a caller's CRS_FLAVOURS wins); the state ones (cr_cycle.sh) act on
# the program's state; the vdso and clocks are the process's state in every restart; the generic
# flavours add nothing to them
export CRS_FLAVOURS=${CRS_FLAVOURS:-"state"}
exec bash "$(dirname "$0")/../cr_cycle.sh" crt_vdso
