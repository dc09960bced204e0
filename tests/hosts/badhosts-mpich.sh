#!/bin/sh
# see badhosts.sh
exec "$(dirname "$0")/badhosts.sh" mpich
