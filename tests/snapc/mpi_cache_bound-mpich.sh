#!/bin/sh
# a periodic job with a full snapshot directory, MPICH (see mpi_cache_bound.sh)
exec "$(dirname "$0")/mpi_cache_bound.sh" mpich
