#!/bin/sh
# REVIVE_MPI_YIELD_WHEN_IDLE, Open MPI.
exec "$(dirname "$0")/idle.sh" ompi
