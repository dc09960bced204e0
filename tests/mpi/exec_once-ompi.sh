#!/bin/sh
# The flavour detected once per job, Open MPI.
exec "$(dirname "$0")/exec_once.sh" ompi
