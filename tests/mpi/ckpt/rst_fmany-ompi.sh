#!/bin/sh
# (the native run of 70 reductions, 70 handlers and a window per step at 4 ranks took over 30 s at load 35)
export REVIVE_MPI_TIMEOUT=${REVIVE_MPI_TIMEOUT:-120}
exec "$(dirname "$0")/rst_fort.sh" ompi rst_fmany
