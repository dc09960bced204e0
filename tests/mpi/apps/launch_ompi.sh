#!/bin/sh
# The ompi launcher: MPI_Abort, exit status, output and signals, natively and under Revive.
exec "$(dirname "$0")/launch.sh" ompi
