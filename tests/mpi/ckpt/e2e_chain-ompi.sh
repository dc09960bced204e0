#!/bin/sh
exec "$(dirname "$0")/e2e_chain.sh" ompi
