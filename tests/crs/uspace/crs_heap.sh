#!/bin/sh
# State test: a 64 MiB heap (and 64 MiB allocated but never touched), through the flavours of
# cr_cycle.sh that do something to memory: kill, rr, cont, fork, stop, compress (the image's
# bytes) and busy (another pid namespace); images must stay under 100 MiB (zero pages are not
# stored). run (no checkpoint), twice, nopid, term, stdoutfile, tty and sigdeath treat a heap as
# they treat any memory, and the state tests that run every flavour (crs_maps.sh's kinds aside:
# crs_threads.sh, crs_signals.sh, crs_pipes.sh and twenty more) run them (they were 7 of this
# test's 14 runs, each filling and summing 64 MiB).
CRS_FLAVOURS="kill rr cont fork stop compress busy" CRS_MAX_IMAGE_MB=100 \
    exec bash "$(dirname "$0")/../cr_cycle.sh" crt_heap
