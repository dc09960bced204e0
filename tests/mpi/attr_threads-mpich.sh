#!/bin/sh
# attr_threads under Revive on mpich: same lines as natively at 1, 2 and 4 ranks (a second thread's
# attribute copies are not silenced while the first makes and frees a shared window).
export REVIVE_TEST_QUICK=1
exec "$(dirname "$0")/compare.sh" attr_threads mpich
