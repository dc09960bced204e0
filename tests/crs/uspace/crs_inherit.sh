#!/bin/sh
# State test: descriptors 5, 6 and 7 inherited from a launcher (a pipe it
# reads, a socket to it, a job server's pipe) and never used: they block no
# checkpoint, and at each restart (whose cr_restart has no descriptor there)
# they are closed; every flavour.
exec bash "$(dirname "$0")/../cr_cycle.sh" crt_inherit
