#!/bin/sh
# Stopped calls named as the Fortran program wrote them, Open MPI.
exec "$(dirname "$0")/callnames.sh" ompi
