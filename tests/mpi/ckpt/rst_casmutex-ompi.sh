#!/bin/sh
exec "$(dirname "$0")/rst_pscw.sh" ompi rst_casmutex 2 16
