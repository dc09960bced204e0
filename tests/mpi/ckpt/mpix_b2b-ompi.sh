#!/bin/sh
# mpix_b2b on ompi: back-to-back MPIX_Checkpoint calls, one snapshot each, restarts (mpix_b2b.sh)
exec "$(dirname "$0")/mpix_b2b.sh" ompi
