#!/bin/sh
exec "$(dirname "$0")/term_attrcb.sh" mpich term_fattrcb
