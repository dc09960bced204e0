#!/bin/sh
# Yorick's mpy checkpointed mid-run and restarted, Open MPI (mpy.sh)
exec "$(dirname "$0")/mpy.sh" ompi
