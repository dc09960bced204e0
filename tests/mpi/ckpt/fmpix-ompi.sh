#!/bin/sh
# fmpix on ompi: MPIX_CHECKPOINT from fixed-form Fortran (fmpix.sh).
exec "$(dirname "$0")/fmpix.sh" ompi
