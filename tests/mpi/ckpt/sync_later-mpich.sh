#!/bin/sh
# sync_later on mpich: a synchronous send and a later send on its tag at a snapshot (sync_later.sh)
exec "$(dirname "$0")/sync_later.sh" mpich
