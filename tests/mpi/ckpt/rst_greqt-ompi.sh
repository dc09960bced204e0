#!/bin/sh
exec "$(dirname "$0")/rst_pscw.sh" ompi rst_greqt "1 2" 16
