#!/bin/sh
exec "$(dirname "$0")/rst_fresh.sh" mpich
