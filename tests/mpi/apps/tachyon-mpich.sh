#!/bin/sh
# Tachyon ray tracer (Debian, mpich build) natively and under Revive, 2 and 4 ranks.
exec "$(dirname "$0")/tachyon.sh" mpich
