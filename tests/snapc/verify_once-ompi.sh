#!/bin/sh
# each rank image read and hashed once in a restart, Open MPI (see verify_once.sh)
exec "$(dirname "$0")/verify_once.sh" ompi
