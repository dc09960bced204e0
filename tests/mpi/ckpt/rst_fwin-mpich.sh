#!/bin/sh
# (three windows, a fence, two lock epochs and a lock_all's operations per step at 4 ranks)
export REVIVE_MPI_TIMEOUT=${REVIVE_MPI_TIMEOUT:-120}
exec "$(dirname "$0")/rst_fort.sh" mpich rst_fwin
