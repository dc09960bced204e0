#!/bin/sh
# Tachyon checkpointed mid-run and restarted, mpich (tachyon.sh)
exec "$(dirname "$0")/tachyon.sh" mpich
