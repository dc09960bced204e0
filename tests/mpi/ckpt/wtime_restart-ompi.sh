#!/bin/sh
exec "$(dirname "$0")/wtime_restart.sh" ompi
