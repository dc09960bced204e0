#!/bin/sh
exec "$(dirname "$0")/drain_idle.sh" mpich
