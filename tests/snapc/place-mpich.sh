#!/bin/sh
# a rank's placement, MPICH (see place.sh)
exec "$(dirname "$0")/place.sh" mpich
