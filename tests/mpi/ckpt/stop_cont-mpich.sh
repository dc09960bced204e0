#!/bin/sh
exec "$(dirname "$0")/stop_cont.sh" mpich
