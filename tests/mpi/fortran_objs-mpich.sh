#!/bin/sh
# Fortran calls whose bindings reach into the C object behind a handle (use mpi), MPICH.
exec "$(dirname "$0")/fortran.sh" mpich fortran_objs fortran_objs.F90
