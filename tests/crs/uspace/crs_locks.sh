#!/bin/sh
# State test: fcntl, open-file (OFD) and flock locks held at each point are
# held after the restart (and a lock shrunk between the points stays
# shrunk); every flavour but busy, whose copy cannot take the locks the
# original holds (locks_busy.sh checks that refusal).
CRS_FLAVOURS="run kill twice nopid rr cont fork stop term compress stdoutfile tty sigdeath" \
    exec bash "$(dirname "$0")/../cr_cycle.sh" crt_locks
