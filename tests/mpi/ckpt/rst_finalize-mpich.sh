#!/bin/sh
exec "$(dirname "$0")/rst_finalize.sh" mpich
