#!/bin/sh
# The state both copies of libc share in a rank, Open MPI.
exec "$(dirname "$0")/libc_shared.sh" ompi
