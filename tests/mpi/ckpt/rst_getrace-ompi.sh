#!/bin/sh
# the race made certain: each handle made for a [get] handed back 2 ms late (mpi-get-late)
REVIVE_FAULT=mpi-get-late exec "$(dirname "$0")/rst_pscw.sh" ompi rst_getrace 2 12
