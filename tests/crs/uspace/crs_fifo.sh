#!/bin/sh
# State test: FIFOs (named pipes) whose both ends the process holds, one
# opened read-write, one as a reader and a writer, with bytes in them (review
# MEDIUM-5); the flavours below but busy, whose copy would share the FIFOs the
# original still holds (fifo_busy.sh checks that refusal).
# Flavours: those that act on its state (run, term, tty, sigdeath and the others not named are the
# tools' mechanics, which the tests listing them check; tests/crs/uspace/README.md); FIFO contents
# and ends: no generic flavour touches them.
CRS_FLAVOURS="kill twice rr cont fork stop" \
    exec bash "$(dirname "$0")/../cr_cycle.sh" crt_fifo
