#!/bin/sh
# State test: descriptors 5, 6 and 7 inherited from a launcher (a pipe it
# reads, a socket to it, a job server's pipe) and never used: they block no
# checkpoint, and at each restart (whose cr_restart has no descriptor there)
# they are closed; its flavours.
# flavours: "state" stdoutfile tty by default (a caller's CRS_FLAVOURS wins); the state ones
# (cr_cycle.sh) act on the program's state; stdoutfile, tty: inherited descriptors 5-7 beside a
# stdout that is a regular file or a terminal
export CRS_FLAVOURS=${CRS_FLAVOURS:-"state stdoutfile tty"}
exec bash "$(dirname "$0")/../cr_cycle.sh" crt_inherit
