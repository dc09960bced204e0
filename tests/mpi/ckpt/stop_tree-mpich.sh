#!/bin/sh
# stop_tree: ckpt-mpirun --stop stops the processes under each rank and the continue runs them again (stop_tree.sh)
exec "$(dirname "$0")/stop_tree.sh" mpich
