#!/bin/sh
# Fortran calls whose bindings reach into the C object behind a handle (use mpi), Open MPI.
exec "$(dirname "$0")/fortran.sh" ompi fortran_objs fortran_objs.F90
