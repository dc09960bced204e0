#!/bin/sh
# State test: files held open for writing (crt_written: a log with O_APPEND, a sparse results file
# read-write) come back as they were at the checkpoint, so that the restarted run's files equal
# an uninterrupted run's: after the original ran on to its end (cont), after a first restart
# wrote on (twice), and with "mutate" log.txt removed and res.dat grown and changed between
# checkpoint and restart (a node-local /tmp cleaned, a crash after a continuing snapshot).
# Reopened by path only (before files51) twice and cont printed other contents and mutate's
# restart failed on the missing log.txt.
CRS_FLAVOURS="kill twice cont mutate" \
CRS_MUTATE='rm written.d/log.txt && echo junk >>written.d/res.dat &&
printf X | dd of=written.d/res.dat conv=notrunc status=none' \
    exec bash "$(dirname "$0")/../cr_cycle.sh" crt_written
