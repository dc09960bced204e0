#!/bin/sh
# hpcc (Open MPI build from Debian) natively and under Revive, 2 and 4 ranks.
exec "$(dirname "$0")/hpcc.sh" ompi
