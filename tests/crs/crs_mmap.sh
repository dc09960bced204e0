#!/bin/sh
# State test: anonymous private/shared, memfd, file-backed private and shared
# mappings; every flavour but busy (two copies would share shared.dat).
CRS_FLAVOURS="run kill twice nopid rr cont fork stop term compress stdoutfile tty sigdeath" \
    exec bash "$(dirname "$0")/cr_cycle.sh" crt_mmap
