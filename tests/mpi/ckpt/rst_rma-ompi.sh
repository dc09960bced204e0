#!/bin/sh
exec "$(dirname "$0")/rst_rma.sh" ompi
