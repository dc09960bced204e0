#!/bin/sh
exec "$(dirname "$0")/cache.sh" ompi
