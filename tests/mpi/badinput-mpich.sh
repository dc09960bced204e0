#!/bin/sh
# Unsupported calls, non-MPI programs and the creation record on mpich.
exec "$(dirname "$0")/badinput.sh" mpich
