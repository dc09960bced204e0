#!/bin/sh
# sync_drain on ompi: synchronous sends the drain took complete only once received (sync_drain.sh)
exec "$(dirname "$0")/sync_drain.sh" ompi
