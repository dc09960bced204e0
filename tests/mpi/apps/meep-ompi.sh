#!/bin/sh
exec "$(dirname "$0")/meep.sh" ompi
