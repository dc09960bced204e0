#!/bin/sh
# State test: anonymous private/shared, memfd, file-backed private and shared
# mappings; every flavour but busy (two copies would share shared.dat).
# Images must stay under 48 MiB: the sparse 256 MiB area has 3 pages touched.
CRS_FLAVOURS="run kill twice nopid rr cont fork stop term compress stdoutfile tty sigdeath" \
CRS_MAX_IMAGE_MB=48 \
    exec bash "$(dirname "$0")/../cr_cycle.sh" crt_mmap
