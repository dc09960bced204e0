#!/bin/sh
# State test: a directory descriptor read part-way with getdents64 goes on
# where it was after a restart in every flavour (review 13 HIGH-11: it came
# back at the directory's start, so a scan gave entries twice, exit 0).
exec bash "$(dirname "$0")/../cr_cycle.sh" crt_dirscan
