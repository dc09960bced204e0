#!/bin/sh
exec "$(dirname "$0")/rst_refs.sh" mpich
