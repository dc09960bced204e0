#!/bin/sh
# rank_tcp: a rank's own TCP connection to another rank refuses a snapshot (rank_tcp.sh)
exec "$(dirname "$0")/rank_tcp.sh" ompi
