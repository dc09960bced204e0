#!/bin/sh
# CP2K checkpointed mid-run (between MD steps, cube files over MPI-IO) and restarted, Open MPI (cp2k.sh)
exec "$(dirname "$0")/cp2k.sh" ompi
