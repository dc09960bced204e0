#!/bin/sh
exec "$(dirname "$0")/rst_heap.sh" mpich
