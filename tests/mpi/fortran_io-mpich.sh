#!/bin/sh
# MPI-IO and one-sided communication from Fortran (fortran_io.f90), MPICH.
exec "$(dirname "$0")/fortran.sh" mpich fortran_io
