#!/bin/sh
exec "$(dirname "$0")/rst_pscw.sh" mpich rst_persist 2 16
