#!/bin/sh
exec "$(dirname "$0")/rst_libchg.sh" mpich
