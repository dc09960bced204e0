#!/bin/sh
exec "$(dirname "$0")/save_shared.sh" mpich
