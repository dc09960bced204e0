#!/bin/sh
# Yorick's mpy checkpointed mid-run and restarted, MPICH (mpy.sh)
exec "$(dirname "$0")/mpy.sh" mpich
