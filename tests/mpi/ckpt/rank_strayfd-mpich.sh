#!/bin/sh
exec "$(dirname "$0")/rank_strayfd.sh" mpich
