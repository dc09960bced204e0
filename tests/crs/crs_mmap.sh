#!/bin/sh
# State test: anonymous private/shared, memfd, file-backed private and shared mappings; every flavour.
exec bash "$(dirname "$0")/cr_cycle.sh" crt_mmap
