#!/bin/sh
# p2p under Revive on ompi: same checksums as natively at 1, 2 and 4 ranks.
exec "$(dirname "$0")/compare.sh" p2p ompi
