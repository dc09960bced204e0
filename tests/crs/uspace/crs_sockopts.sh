#!/bin/sh
# State test: options set on sockets (timeouts, keepalive, buffer sizes,
# linger, TCP_CORK, IP and multicast options...) come back after a restart,
# and a recv that timed out before the checkpoint times out after it (issue
# 10 review HIGH-6: it blocked for ever). Every flavour but busy (the
# restarted copy cannot bind the addresses the original still holds, as in
# crs_sockets).
# Flavours: those that act on its state (run, term, tty, sigdeath and the others not named are the
# tools' mechanics, which the tests listing them check; tests/crs/uspace/README.md); socket
# options: no generic flavour touches them.
CRS_FLAVOURS="kill twice rr cont fork stop" \
    exec bash "$(dirname "$0")/../cr_cycle.sh" crt_sockopts
