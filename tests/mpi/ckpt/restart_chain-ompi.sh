#!/bin/sh
exec "$(dirname "$0")/restart_chain.sh" ompi
