#!/bin/sh
# State test: the bytes of memfds that no mapping holds whole (written with
# write(2), mapped in part, sealed) come back with them; its flavours.
# flavours: "state" compress by default (a caller's CRS_FLAVOURS wins); the state ones
# (cr_cycle.sh) act on the program's state; compress: the memfds' bytes and holes through a
# compressed image
export CRS_FLAVOURS=${CRS_FLAVOURS:-"state compress"}
exec bash "$(dirname "$0")/../cr_cycle.sh" crt_memfd
