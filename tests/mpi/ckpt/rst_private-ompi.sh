#!/bin/sh
exec "$(dirname "$0")/rst_private.sh" ompi
