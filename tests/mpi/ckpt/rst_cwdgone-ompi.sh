#!/bin/sh
exec "$(dirname "$0")/rst_cwdgone.sh" ompi
