#!/bin/sh
# State test (newuser7b F3): a TCP listener and a connection accepted from it, the accepted end
# at a lower descriptor number than the listener and the client end (crt_tcporder.c); restarts
# were refused every time, "cannot bind the socket at descriptor N ... another process holds
# that address", the holder being the process's own restored accepted end. Flavours: kill,
# twice, rr (restart of a restart): the same output as an uninterrupted run.
CRS_FLAVOURS="kill twice rr" \
    exec bash "$(dirname "$0")/../cr_cycle.sh" crt_tcporder
