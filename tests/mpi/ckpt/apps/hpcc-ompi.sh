#!/bin/sh
# hpcc checkpointed mid-run and restarted, Open MPI (hpcc.sh)
exec "$(dirname "$0")/hpcc.sh" ompi
