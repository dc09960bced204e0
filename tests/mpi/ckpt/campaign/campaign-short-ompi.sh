#!/bin/sh
# the short checkpoint campaign on ompi (campaign-short.sh)
exec "$(dirname "$0")/campaign-short.sh" ompi
