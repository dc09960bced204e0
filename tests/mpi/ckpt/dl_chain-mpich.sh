#!/bin/sh
# dl_chain: a chain of restarts of a job loading and unloading plugins (dl_chain.sh)
exec "$(dirname "$0")/dl_chain.sh" mpich
