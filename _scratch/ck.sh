#!/bin/sh
# ck.sh FLAVOR NP PROG ARGS: under Revive with the test agent (random checkpoints)
shm=/dev/shm/ta.$$
rm -f $shm $shm.stats; truncate -s 8M $shm
export REVIVE_MPI_TEST_AGENT=/tmp/rt/testagent.so REVIVE_TEST_AGENT_SHM=$shm
export REVIVE_TEST_AGENT_LOG=${LOG:-1} REVIVE_TEST_AGENT_GAP_MS=${GAP:-1:10}
/work/wt-ranks/_scratch/run.sh "$@"; rc=$?
cat $shm.stats 2>/dev/null | tr '\n' ' '; echo
rm -f $shm $shm.stats
exit $rc
