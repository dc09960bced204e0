#!/bin/sh
exec "$(dirname "$0")/term_threads.sh" mpich
