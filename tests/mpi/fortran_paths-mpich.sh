#!/bin/sh
# Fortran calls whose bindings reach the MPI library's internals, MPICH.
exec "$(dirname "$0")/fortran.sh" mpich fortran_paths
