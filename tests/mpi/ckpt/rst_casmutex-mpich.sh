#!/bin/sh
exec "$(dirname "$0")/rst_pscw.sh" mpich rst_casmutex 2 16
