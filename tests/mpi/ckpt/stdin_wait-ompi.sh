#!/bin/sh
# stdin_wait: a checkpoint timed out by a rank reading its stdin names that (stdin_wait.sh)
exec "$(dirname "$0")/stdin_wait.sh" ompi
