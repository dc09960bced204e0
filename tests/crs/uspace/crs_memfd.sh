#!/bin/sh
# State test: the bytes of memfds that no mapping holds whole (written with
# write(2), mapped in part, sealed) come back with them; every flavour.
exec bash "$(dirname "$0")/../cr_cycle.sh" crt_memfd
