#!/bin/sh
# rank_fdraw: socketpair and eventfd made by raw system calls, across a snapshot (rank_fdmade.sh)
exec "$(dirname "$0")/rank_fdmade.sh" ompi raw
