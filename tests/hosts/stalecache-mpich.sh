#!/bin/sh
exec "$(dirname "$0")/stalecache.sh" mpich
