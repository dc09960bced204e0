#!/bin/sh
exec "$(dirname "$0")/scratch.sh" ompi
