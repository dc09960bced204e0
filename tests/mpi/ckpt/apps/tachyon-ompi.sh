#!/bin/sh
# Tachyon checkpointed mid-run and restarted, ompi (tachyon.sh)
exec "$(dirname "$0")/tachyon.sh" ompi
