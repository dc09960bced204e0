#!/bin/sh
exec "$(dirname "$0")/rst_mpi4.sh" ompi rst_greq
