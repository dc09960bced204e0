#!/bin/sh
exec "$(dirname "$0")/term_quiet.sh" ompi
