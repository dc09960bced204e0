#!/bin/sh
# rank_alone: a rank with a child refused in one whole line; cr_restart of a rank image refused (rank_alone.sh)
exec "$(dirname "$0")/rank_alone.sh" mpich
