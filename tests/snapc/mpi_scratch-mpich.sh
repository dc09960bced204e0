#!/bin/sh
# a rank over the saved-file limit, MPICH (see mpi_scratch.sh)
exec "$(dirname "$0")/mpi_scratch.sh" mpich
