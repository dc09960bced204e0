#!/bin/bash
# sync_later.sh FLAVOR: a synchronous send followed by a send of another kind on the same
# (receiver, communicator, tag) at a snapshot (owed.c: the sends posted after a pending
# synchronous send). sync_later.c: rank 0's MPI_Issend A, which rank 1 matched before the
# snapshot (its acknowledgement still to reach rank 0's layer), then an eager send B on the same
# tag (MPI_Send, MPI_Isend, a started MPI_Send_init, MPI_Bsend by the round) that the drain took:
# rank 0's MPI_Wait on A must return before rank 1 receives B (before: A was taken for the drained
# message, owed a notice that never came, the job hung); MPI_Issend C then eager D on another
# tag, both drained: C completes once rank 1 received C, before it receives D (before: D's
# receive owed C's notice, the job hung). The job's output, and that of a restart from each
# sequence K (rounds K on), must equal the uninterrupted native run's; each run bounded by a
# timeout (a hang: FAIL). 2 ranks, 4 rounds, an MPIX_Checkpoint each.
flavor=$1
. "$(dirname "$0")/../mpienv.sh" || exit $?
. "$(dirname "$0")/ckptenv.sh" || exit $?
ck_prog sync_later
rounds=4
n=2
ck_workdir np$n
run_native "$n" "$prog" $rounds >native.out 2>native.err ||
    { failed "the native run: status $?"; show_err native.err; exit $fail; }
if grep -q 'TOO EARLY' native.out || ! grep -q '^done: ' native.out; then
    failed "the native run itself says a synchronous send completed early"; sed 's/^/  /' native.out; exit $fail
fi
clean timeout -k 5 120 "$wrapper" -am ft-enable-cr --ckpt-dir "$d" --ckpt-keep 10 -n "$n" \
    "$prog" $rounds >out.0 2>err.0; rc=$?
j=$(ls -d "$d"/revive_global_snapshot_*.ckpt 2>/dev/null)
seqs=$(ls "$j" 2>/dev/null | grep -x '[0-9]*' | sort -n | tr '\n' ' ')
if [ $rc != 0 ] || ! cmp -s native.out out.0; then
    failed "the job that runs on after its snapshots: status $rc$([ $rc = 124 ] && echo ' (hung: timeout)')$(cmp -s native.out out.0 || echo ', output differs from native')"
    diff native.out out.0 | head -12 | sed 's/^/  /'; show_err err.0; exit $fail
fi
if [ "$seqs" != "0 1 2 3 " ]; then
    failed "$rounds MPIX_Checkpoint calls left sequences ${seqs:-none} (want 0 1 2 3)"; show_err err.0; exit $fail
fi
bad=
for k in 0 1 2 3; do
    # the restarted job prints from round k on: the native run's lines of those rounds
    awk -v k=$k '!/^round / || $2 >= k' native.out >want.r$k
    clean timeout -k 5 120 "$RESTART" "$j/$k" >out.r$k 2>err.r$k; rc=$?
    if [ $rc != 0 ] || ! cmp -s want.r$k out.r$k; then
        bad="$bad; sequence $k: status $rc$([ $rc = 124 ] && echo ' (hung: timeout)')$(cmp -s want.r$k out.r$k || echo ', output differs from native')"
        diff want.r$k out.r$k | head -12 | sed 's/^/  /'; show_err err.r$k
    fi
done
if [ -n "$bad" ]; then
    failed "restarts: ${bad#; }"
else
    pass "a synchronous send matched before the snapshot completed though a later send on its tag was drained, and one drained completed at its own receive, in the job that ran on and in restarts from sequences $seqs: output as native ($(wc -l <native.out) lines)"
fi
left=$(no_strays "$d/") || failed "processes left: $left"
exit $fail
