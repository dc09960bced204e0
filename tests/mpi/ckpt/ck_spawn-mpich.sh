#!/bin/sh
# ck_spawn on mpich: MPI_Comm_spawn stops the job under Revive with one message naming it.
exec "$(dirname "$0")/ck_spawn.sh" mpich
