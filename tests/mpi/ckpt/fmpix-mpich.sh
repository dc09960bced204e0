#!/bin/sh
# fmpix on mpich: MPIX_CHECKPOINT from fixed-form Fortran (fmpix.sh).
exec "$(dirname "$0")/fmpix.sh" mpich
