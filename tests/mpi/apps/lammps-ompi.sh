#!/bin/sh
exec "$(dirname "$0")/lammps.sh" ompi
