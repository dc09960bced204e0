#!/bin/sh
# the campaign's corner-case programs natively and under Revive, ompi (native.sh)
exec "$(dirname "$0")/native.sh" ompi
