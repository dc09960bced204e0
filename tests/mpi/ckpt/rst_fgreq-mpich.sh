#!/bin/sh
exec "$(dirname "$0")/rst_fort.sh" mpich rst_fgreq
