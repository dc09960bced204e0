#!/bin/sh
# State test: anonymous private/shared, memfd, file-backed private and shared
# mappings; the flavours below but busy (two copies would share shared.dat).
# Images must stay under 48 MiB: the sparse 256 MiB area has 3 pages touched.
# Flavours: those that act on its state (run, term, tty, sigdeath and the others not named are the
# tools' mechanics, which the tests listing them check; tests/crs/uspace/README.md); compress: the
# sparse area and file-backed pages through a compressed image.
CRS_FLAVOURS="kill twice rr cont fork stop compress" \
CRS_MAX_IMAGE_MB=48 \
    exec bash "$(dirname "$0")/../cr_cycle.sh" crt_mmap
