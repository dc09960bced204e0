#!/bin/sh
# State test: pipes whose both ends the process holds (bytes in them at the
# checkpoint, a non-blocking one, a dup of a read end), its flavours.
# flavours: "state" by default (a caller's CRS_FLAVOURS wins); the state ones (cr_cycle.sh) act on
# the program's state; pipes' contents are restored by every checkpoint; the generic flavours only
# change how the tools are run
export CRS_FLAVOURS=${CRS_FLAVOURS:-"state"}
exec bash "$(dirname "$0")/../cr_cycle.sh" crt_pipes
