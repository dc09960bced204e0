#!/bin/sh
# rank_sharesock: a rank whose child shares its socket is refused with the MPI user's remedy, no cr_checkpoint options (rank_sharesock.sh)
exec "$(dirname "$0")/rank_sharesock.sh" mpich
