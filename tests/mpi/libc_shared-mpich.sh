#!/bin/sh
# The state both copies of libc share in a rank, MPICH.
exec "$(dirname "$0")/libc_shared.sh" mpich
