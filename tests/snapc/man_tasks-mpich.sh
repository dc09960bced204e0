#!/bin/sh
# the COMMON TASKS of ckpt-mpirun(1) and restart-mpi(1), with MPICH (see man_tasks.sh)
exec "$(dirname "$0")/man_tasks.sh" mpich
