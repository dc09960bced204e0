#!/bin/sh
# global snapshots of an MPICH job (see mpi_ckpt.sh)
exec "$(dirname "$0")/mpi_ckpt.sh" mpich
