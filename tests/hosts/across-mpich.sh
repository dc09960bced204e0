#!/bin/sh
exec "$(dirname "$0")/across.sh" mpich
