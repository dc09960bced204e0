#!/bin/sh
# rank_initalloc: a thread allocating and writing while MPI_Init runs keeps its memory across --term and restart-mpi (rank_initalloc.sh)
exec "$(dirname "$0")/rank_initalloc.sh" ompi
