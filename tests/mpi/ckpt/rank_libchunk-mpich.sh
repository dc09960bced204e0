#!/bin/sh
# rank_libchunk: the MPI library's memory shaped like a malloc chunk at a snapshot stays the library's (rank_libchunk.sh)
exec "$(dirname "$0")/rank_libchunk.sh" mpich
