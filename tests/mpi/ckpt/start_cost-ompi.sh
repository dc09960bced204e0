#!/bin/sh
exec "$(dirname "$0")/start_cost.sh" ompi
