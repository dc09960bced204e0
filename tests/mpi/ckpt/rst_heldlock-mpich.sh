#!/bin/sh
exec "$(dirname "$0")/rst_heldlock.sh" mpich
