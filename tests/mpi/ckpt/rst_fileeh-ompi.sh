#!/bin/sh
exec "$(dirname "$0")/rst_fileeh.sh" ompi
