#!/bin/sh
exec "$(dirname "$0")/partner.sh" ompi
