#!/bin/bash
# drain_abort.sh FLAVOR [POINT]: an epoch aborted while the ranks drain ends their drain at once and
# the job runs on. A job of 2 ranks under "mpirun -am ft-enable-cr" runs with the fault point
# POINT armed for its first epoch: snapc-rank-drain (default): rank 0's agent reports a failed
# drain instead of draining, while rank 1 is in its drain waiting for rank 0's message counts;
# mpi-rank-compact: rank 0 fails after draining, while rank 1 is in the exchange of the record's
# compaction waiting for rank 0's names (a blocking Allgatherv there hung rank 1). Then
#   - the first ckpt-mpirun fails, naming the fault point,
#   - the job goes on (more step lines come),
#   - a second checkpoint commits,
#   - the job, let go at full speed, ends with status 0 and the results of an uninterrupted run.
# Without the abortable drain (src/pml_hooks/drain_xchg.c) rank 1 stayed in the drain's
# MPI_Reduce_scatter_block for ever: the job hung and the second checkpoint never came.
flavor=$1 point=${2:-snapc-rank-drain}
. "$(dirname "$0")/../mpienv.sh" || exit $?
. "$(dirname "$0")/ckptenv.sh" || exit $?
n=2 steps=300 ms=150
ck_workdir drainabort
run_native "$n" "$prog" $steps >native.out 2>native.err ||
    { failed "the native run: status $?"; tail -n 3 native.err; exit 1; }
touch pace
fx=()
[ "$flavor" = ompi ] && fx=(-x REVIVE_FAULT -x REVIVE_FAULT_EPOCH)
REVIVE_FAULT=$point REVIVE_FAULT_EPOCH=1 clean timeout -k 5 900 "$wrapper" -am ft-enable-cr \
    --ckpt-dir "$d" -n "$n" "${fx[@]}" "$prog" $steps --pace "$d/pace" $ms >out 2>err &
job=$!; pids+=($job)
wait_steps out 2 $job || { failed "no steps before the first checkpoint"; tail -n 4 err; exit 1; }
if checkpoint $job aborted >/dev/null; then
    failed "the first checkpoint committed though rank 0 failed its drain"
elif grep -q -- "$point" ckpt.aborted.err; then
    pass "the first checkpoint failed: $(grep -m1 -- "$point" ckpt.aborted.err)"
else
    failed "the first checkpoint failed without naming the fault point:"; head -n 5 ckpt.aborted.err
fi
k=$(nsteps out)
if ! wait_steps out $((k + 3)) $job; then
    failed "the job did not go on after the aborted epoch ($(nsteps out) steps)"; tail -n 4 err
elif ref=$(checkpoint $job ok); then
    pass "the job went on after the aborted epoch; the next checkpoint committed: $ref"
else
    failed "the checkpoint after the aborted epoch failed:"; tail -n 4 ckpt.ok.err
fi
rm -f pace
wait $job; rc=$?
if [ $rc != 0 ]; then
    failed "the job ended with status $rc"; tail -n 4 err
elif cmp -s <(results native.out) <(results out); then
    pass "the job ended with status 0 and the $(results out | wc -l) result lines of an uninterrupted run"
else
    failed "the results differ from the uninterrupted run"; diff <(results native.out) <(results out) | head
fi
exit $fail
