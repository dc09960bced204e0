#!/bin/sh
# bench/mpi/ckpt.sh smoke run, MPICH (bench_ckpt.sh)
exec "$(dirname "$0")/bench_ckpt.sh" mpich
