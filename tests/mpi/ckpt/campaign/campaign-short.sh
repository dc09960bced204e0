#!/bin/sh
# campaign-short.sh FLAVOR: the short campaign of make check (campaign.sh, README.md): 2 trials on
# one MPI (a fresh seed each time, printed; every kind campaign.sh can run), 1 or 2 ranks, short
# programs with fixed rounds (about 1 s natively: no calibration runs), no new trial after 40 s.
# The long campaign runs by hand: tests/mpi/ckpt/campaign/campaign.sh -n 300.
flavor=$1
exec "$(dirname "$0")/campaign.sh" -n 2 --time 40 --flavors "$flavor" --nps "1 2" \
    --programs "mpi_loop ck_p2p cc_nbc cc_block cc_persist" \
    --rounds "mpi_loop=1500 ck_p2p=100 cc_nbc=40 cc_block=6 cc_persist=40"
