#!/bin/sh
# State test: Unix socketpairs (stream, datagram, seqpacket) with queued
# data, Unix and TCP listeners with accepted and waiting connections, UDP,
# an unbound socket; every flavour but busy (the restarted copy cannot bind
# the addresses the original still holds: sockets_busy.sh).
CRS_FLAVOURS="run kill twice nopid rr cont fork stop term compress stdoutfile tty sigdeath" \
    exec bash "$(dirname "$0")/../cr_cycle.sh" crt_sockets
