#!/bin/sh
# State test: a FIFO's reader whose writer has not opened it yet, a server
# waiting for its first client (review MEDIUM-B; crt_fifowait.c): restored,
# the client then reaches it. Flavours kill, rr and cont: the capture and the
# restart of one process, twice.
CRS_FLAVOURS="kill rr cont" exec bash "$(dirname "$0")/../cr_cycle.sh" crt_fifowait
