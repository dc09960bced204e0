#!/bin/sh
exec "$(dirname "$0")/restart_opts.sh" ompi
