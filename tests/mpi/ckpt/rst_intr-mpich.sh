#!/bin/sh
exec "$(dirname "$0")/rst_intr.sh" mpich
