#!/bin/sh
exec "$(dirname "$0")/drain_abort.sh" mpich mpi-rank-compact
