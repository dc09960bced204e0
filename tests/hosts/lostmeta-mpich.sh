#!/bin/sh
exec "$(dirname "$0")/lostmeta.sh" mpich
