#!/bin/sh
# REVIVE_MPI_YIELD_WHEN_IDLE, MPICH.
exec "$(dirname "$0")/idle.sh" mpich
