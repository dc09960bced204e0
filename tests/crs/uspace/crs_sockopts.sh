#!/bin/sh
# State test: options set on sockets (timeouts, keepalive, buffer sizes,
# linger, TCP_CORK, IP and multicast options...) come back after a restart,
# and a recv that timed out before the checkpoint times out after it (issue
# 10 review HIGH-6: it blocked for ever). Every flavour but busy (the
# restarted copy cannot bind the addresses the original still holds, as in
# crs_sockets).
CRS_FLAVOURS="run kill twice nopid rr cont fork stop term compress stdoutfile tty sigdeath" \
    exec bash "$(dirname "$0")/../cr_cycle.sh" crt_sockopts
