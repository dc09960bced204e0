#!/bin/sh
exec "$(dirname "$0")/rst_mpi4.sh" mpich rst_greq
