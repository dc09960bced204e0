#!/bin/sh
# Launcher options under Revive as natively, with MPICH.
exec "$(dirname "$0")/launch_opts.sh" mpich
