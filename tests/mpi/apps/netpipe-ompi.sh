#!/bin/sh
# NetPIPE integrity check (Debian, ompi build) natively and under Revive, 2 ranks.
exec "$(dirname "$0")/netpipe.sh" ompi
