#!/bin/sh
exec "$(dirname "$0")/drain_abort.sh" ompi mpi-rank-compact
