#!/bin/sh
# retention, index and failed restarts (see retain.sh): ompi, on this machine
exec "$(dirname "$0")/retain.sh" ompi single
