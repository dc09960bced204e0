#!/bin/sh
# ck_mpix on ompi: MPIX_Checkpoint and MPIX_Checkpoint_request inside the program (1, 2, 4, 8 ranks).
exec "$(dirname "$0")/ckcompare.sh" ck_mpix ompi
