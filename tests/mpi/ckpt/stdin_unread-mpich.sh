#!/bin/sh
# stdin_unread: a checkpoint says how many bytes of standard input rank 0 had not read (stdin_unread.sh)
exec "$(dirname "$0")/stdin_unread.sh" mpich
