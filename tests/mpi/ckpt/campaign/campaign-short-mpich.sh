#!/bin/sh
# the short checkpoint campaign on mpich (campaign-short.sh)
exec "$(dirname "$0")/campaign-short.sh" mpich
