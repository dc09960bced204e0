#!/bin/sh
# rst_dupout: copies of standard streams made after a restart, across a second snapshot (rst_dupout.sh)
exec "$(dirname "$0")/rst_dupout.sh" ompi
