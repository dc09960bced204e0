#!/bin/sh
# retention, index and failed restarts (see retain.sh): mpich, on this machine
exec "$(dirname "$0")/retain.sh" mpich single
