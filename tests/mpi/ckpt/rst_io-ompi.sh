#!/bin/sh
exec "$(dirname "$0")/rst_io.sh" ompi
