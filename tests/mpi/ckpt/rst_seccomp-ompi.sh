#!/bin/sh
exec "$(dirname "$0")/rst_seccomp.sh" ompi
