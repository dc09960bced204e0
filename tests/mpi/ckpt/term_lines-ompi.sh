#!/bin/sh
# term_lines on ompi: --term stops every rank at the snapshot (1, 2, 4 ranks).
exec "$(dirname "$0")/term_lines.sh" ompi
