#!/bin/sh
exec "$(dirname "$0")/rst_refchain.sh" mpich
