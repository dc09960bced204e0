#!/bin/sh
# mpix_storm on mpich: MPIX_Checkpoint in every rank while ckpt-mpirun requests arrive (2, 4 ranks).
exec "$(dirname "$0")/mpix_storm.sh" mpich
