#!/bin/sh
exec "$(dirname "$0")/rst_winold.sh" ompi
