#!/bin/sh
# State test: signal handlers, mask, pending signal, alternate stack, itimer, rlimits; every flavour.
exec bash "$(dirname "$0")/../cr_cycle.sh" crt_signals
