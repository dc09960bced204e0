#!/bin/sh
# rank_many: a rank with many processes under it: raw clones' zombies at --term, the original rank's pid a zombie at the restart, more than 1024 refusing --term (rank_many.sh)
exec "$(dirname "$0")/rank_many.sh" mpich
