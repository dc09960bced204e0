#!/bin/sh
# fortenv.sh's skip and fail rules for Fortran test programs, Open MPI.
exec "$(dirname "$0")/fortbuild.sh" ompi
