#!/bin/sh
# rank_fdlib: descriptors opened by the constructors of the application's libraries, across a snapshot (rank_fdlib.sh)
exec "$(dirname "$0")/rank_fdlib.sh" ompi
