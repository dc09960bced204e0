#!/bin/sh
# Elk checkpointed mid-run (between self-consistent loops) and restarted, Open MPI (elk.sh)
exec "$(dirname "$0")/elk.sh" ompi
