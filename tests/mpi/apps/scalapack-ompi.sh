#!/bin/sh
# ScaLAPACK xdlu (Debian, ompi build) natively and under Revive, 2 ranks.
exec "$(dirname "$0")/scalapack.sh" ompi
