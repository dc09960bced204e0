#!/bin/sh
# bench/mpi/ckpt.sh (and lammps.sh) smoke run, Open MPI (bench_ckpt.sh)
exec "$(dirname "$0")/bench_ckpt.sh" ompi
