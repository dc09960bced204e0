#!/bin/sh
# campaign-short.sh FLAVOR: the short campaign of make check (campaign.sh, README.md): 2 trials on
# one MPI (a fresh seed each time, printed; every kind), 2 ranks, short programs with fixed
# rounds (4-6 s natively when idle: no calibration runs; early moments, so that a loaded machine
# does not leave the job finished before them), no new trial after 40 s.
# Known failures of Revive that are still open are skipped by name (CAMPAIGN_KNOWN_FAILURES:
# counted at the end, drawn again; remove an entry with its fix, tests/mpi/ckpt/campaign/campaign-failures.md).
# None is open today.
# The long campaign runs by hand, everything included: tests/mpi/ckpt/campaign/campaign.sh -n 300.
flavor=$1
# every hwloc plugin, as on a user's machine (make check leaves OpenCL's out: Makefile.am)
unset HWLOC_COMPONENTS
exec "$(dirname "$0")/campaign.sh" -n 2 --time 40 --flavors "$flavor" --nps 2 --moments 20-400 \
    --programs "mpi_loop ck_p2p cc_nbc cc_persist cc_halo cc_io cc_rma cc_kobj" \
    --rounds "mpi_loop=10000 ck_p2p=600 cc_nbc=240 cc_persist=240 cc_halo=600 cc_io=150 cc_rma=80 cc_kobj=300"
