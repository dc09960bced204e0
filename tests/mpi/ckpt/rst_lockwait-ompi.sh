#!/bin/sh
exec "$(dirname "$0")/rst_pscw.sh" ompi rst_lockwait "2 3" 12
