#!/bin/sh
exec "$(dirname "$0")/rst_fort.sh" ompi rst_fgreq
