#!/bin/sh
# State test: a program that closes every descriptor above 2 at start and
# again between the points (a close loop, close_range, closefrom, dup2 onto
# every number below 1024): it stays checkpointable, no thread spins, its
# own descriptors start at 3; every flavour.
exec bash "$(dirname "$0")/../cr_cycle.sh" crt_closeall
