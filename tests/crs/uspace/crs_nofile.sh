#!/bin/bash
# State test: a process that runs under a low descriptor limit (RLIMIT_NOFILE
# 64, as under a batch system's or a wrapper's `ulimit -n 64`), checkpointed
# and restarted under that same limit (newuser10 M1: the restart failed with
# "cannot set up descriptors: Invalid argument", cr_restart's own descriptors
# starting at 64, the limit itself). crt_pipes (pipes with bytes in them, a
# non-blocking one, a dup of a read end) through cr_cycle.sh, every tool and
# the program under the limit; the state flavours and the generic ones.
ulimit -n 64 || { echo "SKIP: cannot set ulimit -n 64"; exit 77; }
export CRS_FLAVOURS=${CRS_FLAVOURS:-"state run nopid term compress stdoutfile tty sigdeath"}
exec bash "$(dirname "$0")/../cr_cycle.sh" crt_pipes
