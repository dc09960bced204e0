#!/bin/sh
exec "$(dirname "$0")/fetchbad.sh" ompi
