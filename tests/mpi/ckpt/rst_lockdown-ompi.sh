#!/bin/sh
exec "$(dirname "$0")/rst_lockdown.sh" ompi
