#!/bin/bash
# State test: sessions and process groups (issue 10, point 2): a program
# that leads a session of its own without a terminal (setsid, daemon(3))
# leads one again after a restart, away from cr_restart's terminal and
# group; one that leads its own process group leads one again; a daemon
# that put /dev/null on its stdin and stderr itself has them on /dev/null
# again, not on cr_restart's streams (before, a restart gave it cr_restart's:
# a daemon restarted from a terminal would read it and print on it). setsid:
# every flavour but tty (under script(1) the program already leads the pty's
# session, with that terminal: it stays in cr_restart's session then, the
# terminal it finds again). pgrp and daemon: the flavours that make the
# session or group again (kill, twice, nopid, rr, busy beside the original),
# keep the original's (cont, fork) and give the streams a file (stdoutfile);
# run, stop, term, compress and sigdeath (no checkpoint, how the original
# ends, the image's bytes, cr_restart's status) are the same for the three
# and shown by setsid.
. "$(dirname "$0")/../crs_lib.sh"
crs_setup crs_session
fl="run kill twice nopid rr cont fork stop term compress stdoutfile sigdeath busy"
for mode in setsid pgrp daemon; do
    [ $mode = pgrp ] && fl="kill twice nopid rr cont fork stdoutfile busy"
    if CRT_SESSION=$mode CRS_FLAVOURS=$fl bash "$(dirname "$0")/../cr_cycle.sh" crt_session; then
        crs_pass "$mode: $fl"
    else
        crs_fail "$mode: the flavours above"
    fi
done
crs_summary crs_session
