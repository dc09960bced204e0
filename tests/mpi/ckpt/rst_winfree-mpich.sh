#!/bin/sh
exec "$(dirname "$0")/rst_winfree.sh" mpich
