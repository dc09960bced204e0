#!/bin/sh
exec "$(dirname "$0")/lostfs.sh" mpich
