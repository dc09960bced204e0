#!/bin/sh
# State test: a 64 MiB heap, through every flavour of cr_cycle.sh.
exec bash "$(dirname "$0")/cr_cycle.sh" crt_heap
