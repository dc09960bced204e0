#!/bin/sh
# MPB checkpointed mid-run (between k-points) and restarted, Open MPI (mpb.sh)
exec "$(dirname "$0")/mpb.sh" ompi
