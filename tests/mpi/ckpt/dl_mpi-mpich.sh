#!/bin/sh
# dl_mpi: MPI loaded at run time (a dlopen'ed plugin; Python's mpi4py) checkpointed and restarted (dl_mpi.sh)
exec "$(dirname "$0")/dl_mpi.sh" mpich
