#!/bin/sh
# State test: a 64 MiB heap (and 64 MiB allocated but never touched), through
# every flavour of cr_cycle.sh; images must stay under 100 MiB (zero pages are
# not stored).
CRS_MAX_IMAGE_MB=100 exec bash "$(dirname "$0")/../cr_cycle.sh" crt_heap
