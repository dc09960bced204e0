#!/bin/sh
# Knowing the halves apart on running ranks, Open MPI.
exec "$(dirname "$0")/halves.sh" ompi
