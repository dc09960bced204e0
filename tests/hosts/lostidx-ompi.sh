#!/bin/sh
exec "$(dirname "$0")/lostidx.sh" ompi
