#!/bin/sh
exec "$(dirname "$0")/mpi4_stop.sh" ompi
