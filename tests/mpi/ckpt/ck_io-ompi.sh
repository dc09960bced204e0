#!/bin/sh
# ck_io on ompi: checkpoints at random moments (inside I/O phases and RMA epochs) do not change
# its output (1, 2, 4 ranks).
export REVIVE_TEST_QUICK=1
exec "$(dirname "$0")/ckcompare.sh" ck_io ompi
