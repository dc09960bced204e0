#!/bin/sh
exec "$(dirname "$0")/fetch.sh" mpich
