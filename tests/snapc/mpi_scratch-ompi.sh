#!/bin/sh
# a rank over the saved-file limit, Open MPI (see mpi_scratch.sh)
exec "$(dirname "$0")/mpi_scratch.sh" ompi
