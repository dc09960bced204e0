#!/bin/sh
# No path reaches the application's copy of the MPI library, MPICH.
exec "$(dirname "$0")/upper_paths.sh" mpich
