#!/bin/sh
# a checkpoint waiting on a stopped rank says so while it waits, with Open MPI (see stopped_note.sh)
exec "$(dirname "$0")/stopped_note.sh" ompi
