#!/bin/sh
# state_file: a job keeping its state in files it rewrites; the documented remedy (state_file.sh)
exec "$(dirname "$0")/state_file.sh" mpich
