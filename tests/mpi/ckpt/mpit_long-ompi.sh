#!/bin/sh
exec "$(dirname "$0")/mpit_long.sh" ompi
