#!/bin/sh
exec "$(dirname "$0")/rst_winenv.sh" ompi
