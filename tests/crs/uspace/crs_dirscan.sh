#!/bin/sh
# State test: a directory descriptor read part-way with getdents64 goes on
# where it was after a restart in its flavours (review 13 HIGH-11: it came
# back at the directory's start, so a scan gave entries twice, exit 0).
# flavours: "state" by default (a caller's CRS_FLAVOURS wins); the state ones (cr_cycle.sh) act on
# the program's state; the directory offset is a descriptor's state, which the state flavours
# restore; the generic ones add nothing to it
export CRS_FLAVOURS=${CRS_FLAVOURS:-"state"}
exec bash "$(dirname "$0")/../cr_cycle.sh" crt_dirscan
