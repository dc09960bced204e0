#!/bin/sh
# State test: threads that wait for signals with sigwait, sigwaitinfo and a signalfd read, every
# signal blocked, each set made by sigfillset (so naming Revive's park signal: crt_sigwait.c,
# src/crs/libcr/sigwait.c). Checkpointed while they wait; each must take only the signals the
# program sends. Flavours kill, rr and cont: the capture and the restart of one process, twice.
CRS_FLAVOURS="kill rr cont" exec bash "$(dirname "$0")/../cr_cycle.sh" crt_sigwait
