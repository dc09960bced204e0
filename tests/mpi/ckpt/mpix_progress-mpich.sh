#!/bin/sh
# mpix_progress on mpich: a rank waiting in MPIX_Checkpoint drives MPI progress (mpix_progress.sh)
exec "$(dirname "$0")/mpix_progress.sh" mpich
