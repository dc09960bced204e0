#!/bin/sh
# Meep checkpointed mid-run with an HDF5 file open over MPI-IO and restarted, Open MPI (meep.sh)
exec "$(dirname "$0")/meep.sh" ompi
