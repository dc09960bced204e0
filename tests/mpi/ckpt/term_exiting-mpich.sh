#!/bin/sh
exec "$(dirname "$0")/term_exiting.sh" mpich
