#!/bin/sh
# State test: a process that writes through a MAP_SHARED mapping of a data
# file after the checkpoint (crt_mmap with CRT_MMAP_SHARED_WRITE=1). The file
# is the data (like an open regular file), so its changed mtime must not stop
# a second restart from the same image, nor a restart after the original went
# on. Flavours kill, twice, cont.
CRT_MMAP_SHARED_WRITE=1 CRS_FLAVOURS="kill twice cont" \
    exec bash "$(dirname "$0")/../cr_cycle.sh" crt_mmap
