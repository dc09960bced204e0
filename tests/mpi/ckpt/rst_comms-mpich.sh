#!/bin/sh
exec "$(dirname "$0")/rst_comms.sh" mpich
