#!/bin/sh
# State test: fcntl, open-file (OFD) and flock locks held at each point are
# held after the restart (and a lock shrunk between the points stays
# shrunk); the flavours below but busy, whose copy cannot take the locks the
# original holds (locks_busy.sh checks that refusal).
# Flavours: those that act on its state (run, term, tty, sigdeath and the others not named are the
# tools' mechanics, which the tests listing them check; tests/crs/uspace/README.md); nopid: fcntl
# locks are owned by the pid (F_GETLK's l_pid must be getpid() under another pid).
CRS_FLAVOURS="kill twice nopid rr cont fork stop" \
    exec bash "$(dirname "$0")/../cr_cycle.sh" crt_locks
