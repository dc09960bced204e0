#!/bin/sh
# the campaign's corner-case programs natively and under Revive, mpich (native.sh)
exec "$(dirname "$0")/native.sh" mpich
