#!/bin/sh
exec "$(dirname "$0")/rst_pscw.sh" ompi rst_handout 2 16
