#!/bin/sh
exec "$(dirname "$0")/stop_unsup.sh" ompi
