#!/bin/sh
# fortenv.sh's skip and fail rules for Fortran test programs, MPICH.
exec "$(dirname "$0")/fortbuild.sh" mpich
