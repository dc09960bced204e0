#!/bin/sh
# Fortran calls whose bindings reach into the C object behind a handle (use mpi_f08), MPICH.
exec "$(dirname "$0")/fortran.sh" mpich fortran_objs08 fortran_objs.F90 -DUSE_MPI_F08
