#!/bin/sh
# a node-local cache with room for one snapshot, MPICH (see mpi_cache_room.sh)
exec "$(dirname "$0")/mpi_cache_room.sh" mpich
