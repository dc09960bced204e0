#!/bin/sh
# dtype under Revive on ompi: same checksums as natively at 1, 2 and 4 ranks.
exec "$(dirname "$0")/compare.sh" dtype ompi
