#!/bin/sh
exec "$(dirname "$0")/saveshared.sh" ompi
