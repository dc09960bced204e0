#!/bin/sh
# mpi4 (MPI-4 large-count forms) under Revive on mpich: same checksums as natively at 1, 2 and 4
# ranks, each run given up to 120 s.
export REVIVE_TEST_QUICK=1 REVIVE_MPI_TIMEOUT=${REVIVE_MPI_TIMEOUT:-120}
exec "$(dirname "$0")/compare.sh" mpi4 mpich
