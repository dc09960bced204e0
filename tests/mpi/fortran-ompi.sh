#!/bin/sh
exec "$(dirname "$0")/fortran.sh" ompi
