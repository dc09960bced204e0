#!/bin/sh
# rst_popen: a job whose ranks run a command each step, snapshotted while they do (rst_popen.sh)
exec "$(dirname "$0")/rst_popen.sh" ompi
