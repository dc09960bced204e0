#!/bin/sh
exec "$(dirname "$0")/ldso_chain.sh" mpich
