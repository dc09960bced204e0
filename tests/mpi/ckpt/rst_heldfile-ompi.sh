#!/bin/sh
# rst_heldfile: files the ranks hold open for writing, gone or changed at the restart (rst_heldfile.sh)
exec "$(dirname "$0")/rst_heldfile.sh" ompi
