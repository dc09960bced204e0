#!/bin/sh
# see iface.sh
exec "$(dirname "$0")/iface.sh" ompi
