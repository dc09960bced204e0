#!/bin/sh
# global snapshots of an Open MPI job (see mpi_ckpt.sh)
exec "$(dirname "$0")/mpi_ckpt.sh" ompi
