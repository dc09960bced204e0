#!/bin/sh
exec "$(dirname "$0")/fetchbad.sh" mpich
