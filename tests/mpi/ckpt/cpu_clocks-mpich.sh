#!/bin/sh
# cpu_clocks: a rank's CPU-time clocks go on across a restart (cpu_clocks.sh)
exec "$(dirname "$0")/cpu_clocks.sh" mpich
