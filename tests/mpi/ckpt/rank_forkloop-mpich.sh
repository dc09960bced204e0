#!/bin/sh
# rank_forkloop: ranks forking in a tight loop outside MPI while snapshots are taken: no child holds a descriptor of Revive's, restarted with its workers (rank_forkloop.sh)
exec "$(dirname "$0")/rank_forkloop.sh" mpich
