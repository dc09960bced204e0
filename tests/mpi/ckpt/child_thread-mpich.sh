#!/bin/sh
# child_thread: a rank's forked child whose threads end and start after its checkpoint and restart (child_thread.sh)
exec "$(dirname "$0")/child_thread.sh" mpich
