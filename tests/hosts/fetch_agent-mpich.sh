#!/bin/sh
exec "$(dirname "$0")/fetch_agent.sh" mpich
