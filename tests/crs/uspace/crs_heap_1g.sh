#!/bin/sh
# State test: a 1 GiB heap (issue 2: "1 GiB and more"), checkpointed with --kill, then
# restarted; the other flavours run at 64 MiB in crs_heap.sh. Images must stay under 1100 MiB
# (64 MiB are never touched). --fork ran here too: at 1 GiB it takes the code path it takes at
# 64 MiB (crs_heap.sh runs it), and it was 2 of the test's 5 runs of a 1 GiB program.
CRT_HEAP_MB=1024 CRS_FLAVOURS="kill" CRS_TIMEOUT=300 CRS_MAX_IMAGE_MB=1100 \
    exec bash "$(dirname "$0")/../cr_cycle.sh" crt_heap
