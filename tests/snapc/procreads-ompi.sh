#!/bin/sh
# a rank's checkpoint reads its memory map from /proc twice, not four times, Open MPI (see procreads.sh)
exec "$(dirname "$0")/procreads.sh" ompi
