#!/bin/sh
exec "$(dirname "$0")/rst_getrefs.sh" ompi
