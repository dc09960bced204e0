#!/bin/sh
# Tachyon ray tracer (Debian, ompi build) natively and under Revive, 2 and 4 ranks.
exec "$(dirname "$0")/tachyon.sh" ompi
