#!/bin/sh
# rank_child_sum: the checksum of a rank image that is a tree file covers every member; a damaged child in a cached or partner copy falls back to the snapshot directory (rank_child_sum.sh)
exec "$(dirname "$0")/rank_child_sum.sh" mpich
