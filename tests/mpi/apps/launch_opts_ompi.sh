#!/bin/sh
# Launcher options under Revive as natively, with Open MPI.
exec "$(dirname "$0")/launch_opts.sh" ompi
