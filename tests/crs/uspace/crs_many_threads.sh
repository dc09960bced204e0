#!/bin/sh
# State test: 200 threads (half on a condition variable) at each checkpoint
# point keep their TLS and join; each image holds 202 threads (the 200, main,
# Revive's checkpoint thread). The flavours that capture or restore the
# threads: kill, twice, rr, cont, fork, stop (the threads of a stopped
# original) and busy (another pid namespace: every thread's id). run (no
# checkpoint), nopid, term, compress, stdoutfile, tty and sigdeath treat 200
# threads as they treat the few of crs_threads.sh, which runs every flavour
# (they were 7 of this test's 14 runs).
CRS_FLAVOURS="kill twice rr cont fork stop busy" CRS_IMAGE_THREADS=202 \
    exec bash "$(dirname "$0")/../cr_cycle.sh" crt_many_threads
