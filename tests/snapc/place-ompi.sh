#!/bin/sh
# a rank's placement, Open MPI (see place.sh)
exec "$(dirname "$0")/place.sh" ompi
