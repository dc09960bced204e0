#!/bin/sh
# A checkpoint of running ranks holds the upper half only, MPICH.
exec "$(dirname "$0")/halves_ckpt.sh" mpich
