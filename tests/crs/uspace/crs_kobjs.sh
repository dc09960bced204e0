#!/bin/sh
# State test: eventfd, timerfd, signalfd, epoll (watching them, a pipe and
# another epoll; edge-triggered, one-shot) and inotify (watch numbers with a
# gap) come back with their state; every flavour but busy (the two copies
# would see each other's files in the watched folders).
CRS_FLAVOURS="run kill twice nopid rr cont fork stop term compress stdoutfile tty sigdeath" \
    exec bash "$(dirname "$0")/../cr_cycle.sh" crt_kobjs
