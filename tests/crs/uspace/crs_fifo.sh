#!/bin/sh
# State test: FIFOs (named pipes) whose both ends the process holds, one
# opened read-write, one as a reader and a writer, with bytes in them (review
# MEDIUM-5); every flavour but busy, whose copy would share the FIFOs the
# original still holds (fifo_busy.sh checks that refusal).
CRS_FLAVOURS="run kill twice nopid rr cont fork stop term compress stdoutfile tty sigdeath" \
    exec bash "$(dirname "$0")/../cr_cycle.sh" crt_fifo
