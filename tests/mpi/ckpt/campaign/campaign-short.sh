#!/bin/sh
# campaign-short.sh FLAVOR: the short campaign of make check (campaign.sh, README.md): 2 trials on
# one MPI (a fresh seed each time, printed; every kind campaign.sh can run), 1 or 2 ranks, short
# programs with fixed rounds (2-3 s natively when idle: no calibration runs), no new trial after
# 40 s. While the restart kinds are known failures (campaign.sh KNOWN_FAILURES) both trials are
# "continue" ones.
# The long campaign runs by hand: tests/mpi/ckpt/campaign/campaign.sh -n 300.
flavor=$1
exec "$(dirname "$0")/campaign.sh" -n 2 --time 40 --flavors "$flavor" --nps "1 2" \
    --programs "mpi_loop ck_p2p cc_nbc cc_block cc_persist" \
    --rounds "mpi_loop=5000 ck_p2p=300 cc_nbc=120 cc_block=16 cc_persist=120"
