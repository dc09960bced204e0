#!/bin/sh
exec "$(dirname "$0")/rst_scratchlive.sh" ompi
