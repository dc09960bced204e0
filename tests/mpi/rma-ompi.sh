#!/bin/sh
# rma under Revive on ompi: same checksums as natively at 1, 2 and 4 ranks (up to 120 s a run);
# then the create and dynamic windows again with single-copy transfers (CMA), which Open MPI's
# MPI_Win_create needs.
export REVIVE_TEST_QUICK=1 REVIVE_MPI_TIMEOUT=${REVIVE_MPI_TIMEOUT:-120}
"$(dirname "$0")/compare.sh" rma ompi || exit 1
echo "with single-copy transfers (cma), create and dynamic windows:"
REVIVE_TEST_SINGLE_COPY=cma REVIVE_TEST_RMA=create exec "$(dirname "$0")/compare.sh" rma ompi
