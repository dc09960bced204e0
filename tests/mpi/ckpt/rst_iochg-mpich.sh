#!/bin/sh
exec "$(dirname "$0")/rst_iochg.sh" mpich
