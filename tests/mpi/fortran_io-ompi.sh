#!/bin/sh
# MPI-IO and one-sided communication from Fortran (fortran_io.f90), Open MPI.
exec "$(dirname "$0")/fortran.sh" ompi fortran_io
