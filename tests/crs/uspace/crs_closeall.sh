#!/bin/sh
# State test: a program that closes every descriptor above 2 at start and
# again between the points (a close loop, close_range, closefrom, dup2 onto
# every number below 1024): it stays checkpointable, no thread spins, its
# own descriptors start at 3; its flavours.
# flavours: "state" run stdoutfile by default (a caller's CRS_FLAVOURS wins); the state ones
# (cr_cycle.sh) act on the program's state; run: libcr's interposed close loops, close_range and
# closefrom under cr_run with no checkpoint; stdoutfile: descriptors 0-2 are kept by the close-all
# and a regular-file stdout comes back at its offset
export CRS_FLAVOURS=${CRS_FLAVOURS:-"state run stdoutfile"}
exec bash "$(dirname "$0")/../cr_cycle.sh" crt_closeall
