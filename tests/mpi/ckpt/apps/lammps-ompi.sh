#!/bin/sh
# LAMMPS checkpointed mid-run and restarted, Open MPI (lammps.sh)
exec "$(dirname "$0")/lammps.sh" ompi
