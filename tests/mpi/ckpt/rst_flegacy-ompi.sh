#!/bin/sh
# (1100 keyvals made again at the restart)
export REVIVE_MPI_TIMEOUT=${REVIVE_MPI_TIMEOUT:-120}
exec "$(dirname "$0")/rst_fort.sh" ompi rst_flegacy
