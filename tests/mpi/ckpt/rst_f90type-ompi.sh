#!/bin/sh
exec "$(dirname "$0")/rst_pscw.sh" ompi rst_f90type 2 16
