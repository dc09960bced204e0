#!/bin/sh
# rank_fdrefuse: a message queue and a descriptor in flight refuse a snapshot without offering --ignore-fds (rank_fdmade.sh)
exec "$(dirname "$0")/rank_fdmade.sh" mpich refuse
