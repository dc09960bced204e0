#!/bin/sh
exec "$(dirname "$0")/rst_stdio.sh" ompi
