#!/bin/sh
# State test: clock_gettime and friends through the vdso after restart; every flavour.
exec bash "$(dirname "$0")/../cr_cycle.sh" crt_vdso
