#!/bin/sh
# ck_spawn.sh FLAVOR: a program calling MPI_Comm_spawn under "mpirun -am ft-enable-cr" (with the
# test agent taking checkpoints) stops with one message naming the call, a non-zero exit status,
# no timeout and no stray rank; the parent never goes past the call.
flavor=$1
. "$(dirname "$0")/../mpienv.sh" || exit $?
bin=$REVIVE_BUILDDIR/tests/mpi/ckpt/ck_spawn-$flavor
agent=$REVIVE_BUILDDIR/tests/mpi/ckpt/.libs/testagent.so
[ -x "$bin" ] || { echo "SKIP: $bin not built"; exit 77; }
[ -r "$agent" ] || { echo "SKIP: $agent not built"; exit 77; }
TMO=${REVIVE_MPI_TIMEOUT:-120}
truncate -s 8M "$tmp/shm"
REVIVE_MPI_TEST_AGENT=$agent REVIVE_TEST_AGENT_SHM=$tmp/shm run_revive 2 "$bin" >"$tmp/r.out" 2>&1
rc=$?
fail=0
if [ $rc = 0 ] || [ $rc = 124 ] || [ $rc = 137 ]; then
    echo "FAIL: exit status $rc (want non-zero, no timeout)"; fail=1
elif ! grep -q "MPI_Comm_spawn is not supported under Revive" "$tmp/r.out"; then
    echo "FAIL: no message naming MPI_Comm_spawn"; fail=1
elif grep -q "spawned" "$tmp/r.out"; then
    echo "FAIL: the job went on after MPI_Comm_spawn"; fail=1
fi
# no rank of this job left behind (its environment names the test agent's shared file); the
# launcher has returned, so they must be gone within a few seconds
ranks() { for p in $(pgrep -f "$bin"); do grep -qs "$tmp/shm" "/proc/$p/environ" && echo "$p"; done; }
i=0
while [ -n "$(ranks)" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
left=$(ranks)
[ -n "$left" ] && { echo "FAIL: ranks still run: $left"; kill -9 $left; fail=1; }
[ $fail = 1 ] && { sed 's/^/  /' "$tmp/r.out" | tail -8; exit 1; }
echo "ok: MPI_Comm_spawn stopped the job (exit $rc): $(grep -m1 'not supported' "$tmp/r.out")"
