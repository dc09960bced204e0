#!/bin/sh
exec "$(dirname "$0")/rst_pscw.sh" ompi rst_nbcnew 2 16
