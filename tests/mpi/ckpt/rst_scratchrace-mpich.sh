#!/bin/sh
exec "$(dirname "$0")/rst_scratchrace.sh" mpich
