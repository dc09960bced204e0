#!/bin/sh
exec "$(dirname "$0")/rst_pscw.sh" mpich rst_handout 2 16
