#!/bin/sh
# State test: Unix socketpairs (stream, datagram, seqpacket) with queued
# data, Unix and TCP listeners with accepted and waiting connections, UDP,
# an unbound socket; the flavours below but busy (the restarted copy cannot bind
# the addresses the original still holds: sockets_busy.sh).
# Flavours: those that act on its state (run, term, tty, sigdeath and the others not named are the
# tools' mechanics, which the tests listing them check; tests/crs/uspace/README.md); nopid: the
# peer credentials (pid) of its Unix sockets.
CRS_FLAVOURS="kill twice nopid rr cont fork stop" \
    exec bash "$(dirname "$0")/../cr_cycle.sh" crt_sockets
