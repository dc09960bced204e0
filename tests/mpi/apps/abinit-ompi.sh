#!/bin/sh
exec "$(dirname "$0")/abinit.sh" ompi
