#!/bin/sh
# A checkpoint of running ranks holds the upper half only, Open MPI.
exec "$(dirname "$0")/halves_ckpt.sh" ompi
