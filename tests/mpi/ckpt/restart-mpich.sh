#!/bin/sh
exec "$(dirname "$0")/restart.sh" mpich
