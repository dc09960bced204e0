#!/bin/sh
exec "$(dirname "$0")/stagefail.sh" ompi
