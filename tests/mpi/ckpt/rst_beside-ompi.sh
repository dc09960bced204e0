#!/bin/sh
# rst_beside: restart-mpi beside the running original is refused naming what it holds (rst_beside.sh)
exec "$(dirname "$0")/rst_beside.sh" ompi
