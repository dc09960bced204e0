#!/bin/sh
exec "$(dirname "$0")/rst_nbrorder.sh" ompi
