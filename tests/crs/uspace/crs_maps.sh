#!/bin/sh
# State test: 20000 one-page anonymous mappings and 2000 private file mappings
# that the kernel cannot merge (CRT_MAPS changes the count), through the flavours
# that capture or restore them: kill, rr (a restarted process's mappings
# checkpointed again), cont, fork, busy (another pid namespace), compress (the only
# compressed image of tens of thousands of chunks: the reader's stored/zstd chunk table).
# The restorer once read its own memory map into a table of 512 entries and
# refused every image of more than about 450 mappings. run (no checkpoint), twice,
# nopid, stop, term, stdoutfile, tty and sigdeath treat many mappings as
# they treat a few, and the state tests that run every flavour (crs_threads.sh,
# crs_signals.sh, crs_pipes.sh and twenty more) run them (they were 9 of the 14 runs).
CRS_FLAVOURS="kill rr cont fork busy compress" exec bash "$(dirname "$0")/../cr_cycle.sh" crt_maps
