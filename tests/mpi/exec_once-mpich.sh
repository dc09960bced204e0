#!/bin/sh
# The flavour detected once per job, MPICH.
exec "$(dirname "$0")/exec_once.sh" mpich
