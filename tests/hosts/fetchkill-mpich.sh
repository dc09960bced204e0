#!/bin/sh
exec "$(dirname "$0")/fetchkill.sh" mpich
