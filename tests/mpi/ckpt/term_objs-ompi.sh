#!/bin/sh
exec "$(dirname "$0")/term_objs.sh" ompi
