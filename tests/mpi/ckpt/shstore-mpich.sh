#!/bin/sh
exec "$(dirname "$0")/shstore.sh" mpich
