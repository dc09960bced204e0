#!/bin/sh
# rank_fdsvcrefuse: clients of a stand-in D-Bus in /run that REVIVE_SERVICE_SOCKETS does not name: refused by name (rank_fdmade.sh)
exec "$(dirname "$0")/rank_fdmade.sh" ompi svcrefuse
