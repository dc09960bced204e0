#!/bin/sh
# Stopped calls named as the Fortran program wrote them, MPICH.
exec "$(dirname "$0")/callnames.sh" mpich
