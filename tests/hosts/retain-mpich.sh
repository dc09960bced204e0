#!/bin/sh
# retention, index and failed restarts (see retain.sh): mpich, across h1,h2 of the host test bed
exec "$(dirname "$0")/retain.sh" mpich bed
