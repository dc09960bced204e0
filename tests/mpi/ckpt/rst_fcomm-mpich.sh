#!/bin/sh
exec "$(dirname "$0")/rst_fcomm.sh" mpich
