#!/bin/sh
# sync_drain on mpich: synchronous sends the drain took complete only once received (sync_drain.sh)
exec "$(dirname "$0")/sync_drain.sh" mpich
