#!/bin/sh
exec "$(dirname "$0")/override.sh" ompi
