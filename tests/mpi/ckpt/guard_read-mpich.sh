#!/bin/sh
exec "$(dirname "$0")/guard_read.sh" mpich
