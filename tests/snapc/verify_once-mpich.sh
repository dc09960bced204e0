#!/bin/sh
# each rank image read and hashed once in a restart, MPICH (see verify_once.sh)
exec "$(dirname "$0")/verify_once.sh" mpich
