#!/bin/sh
# Knowing the halves apart on running ranks, MPICH.
exec "$(dirname "$0")/halves.sh" mpich
