#!/bin/sh
exec "$(dirname "$0")/rst_pscw.sh" ompi rst_persist 2 16
