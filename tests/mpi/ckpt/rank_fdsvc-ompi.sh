#!/bin/sh
# rank_fdsvc: libc-style clients of a system daemon in /run, reconnected after a restart (rank_fdmade.sh)
exec "$(dirname "$0")/rank_fdmade.sh" ompi svc
