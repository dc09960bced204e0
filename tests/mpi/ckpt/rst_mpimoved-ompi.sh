#!/bin/sh
exec "$(dirname "$0")/rst_mpimoved.sh" ompi
