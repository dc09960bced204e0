#!/bin/sh
# ck_threads on ompi: checkpoints at random moments do not change its output (1, 2, 4, 8 ranks).
exec "$(dirname "$0")/ckcompare.sh" ck_threads ompi
