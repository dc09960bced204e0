#!/bin/sh
# ABINIT checkpointed mid-run (between datasets' SCF steps) and restarted, Open MPI (abinit.sh)
exec "$(dirname "$0")/abinit.sh" ompi
