#!/bin/sh
# lower_fifo: the MPI library's open of a FIFO holds no fork and no checkpoint (lower_fifo.sh)
exec "$(dirname "$0")/lower_fifo.sh" ompi
