#!/bin/sh
# Fortran calls whose bindings reach the MPI library's internals, Open MPI.
exec "$(dirname "$0")/fortran.sh" ompi fortran_paths
