#!/bin/sh
# ScaLAPACK xdlu (Debian, mpich build) natively and under Revive, 2 ranks.
exec "$(dirname "$0")/scalapack.sh" mpich
