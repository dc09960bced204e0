#!/bin/sh
# a periodic job with a full snapshot directory, Open MPI (see mpi_cache_bound.sh)
exec "$(dirname "$0")/mpi_cache_bound.sh" ompi
