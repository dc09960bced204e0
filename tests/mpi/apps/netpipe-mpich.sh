#!/bin/sh
# NetPIPE integrity check (Debian, mpich build) natively and under Revive, 2 ranks.
exec "$(dirname "$0")/netpipe.sh" mpich
