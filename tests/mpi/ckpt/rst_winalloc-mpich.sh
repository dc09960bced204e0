#!/bin/sh
exec "$(dirname "$0")/rst_winalloc.sh" mpich
