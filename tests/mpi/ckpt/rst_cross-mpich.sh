#!/bin/sh
exec "$(dirname "$0")/rst_cross.sh" mpich
