#!/bin/sh
# ck_p2p on mpich through the coordinator: snapshots taken with ckpt-mpirun while it runs.
exec "$(dirname "$0")/cke2e.sh" ck_p2p mpich
