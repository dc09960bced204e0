#!/bin/sh
exec "$(dirname "$0")/rst_legacy.sh" mpich
