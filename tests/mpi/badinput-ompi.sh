#!/bin/sh
# Unsupported calls, non-MPI programs and the creation record on ompi.
exec "$(dirname "$0")/badinput.sh" ompi
