#!/bin/sh
exec "$(dirname "$0")/rst_pscw.sh" mpich rst_f90type 2 16
