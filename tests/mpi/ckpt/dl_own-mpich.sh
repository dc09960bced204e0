#!/bin/sh
# dl_own: an MPI program defining its own dlsym, checkpointed and restarted (dl_own.sh)
exec "$(dirname "$0")/dl_own.sh" mpich
