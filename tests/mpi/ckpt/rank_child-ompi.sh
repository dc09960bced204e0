#!/bin/sh
# rank_child: ranks keeping zombie children and pipes from them across snapshots and restarts; a running child refused naming it (rank_child.sh)
exec "$(dirname "$0")/rank_child.sh" ompi
