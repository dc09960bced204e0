#!/bin/sh
exec "$(dirname "$0")/sig_status.sh" mpich
