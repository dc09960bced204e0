#!/bin/bash
# sync_drain.sh FLAVOR: synchronous sends whose messages a snapshot's drain took complete only
# once the receiving application matched them (campaign-failures.md #36), in the job that runs on
# and in a job restarted from the snapshot. sync_drain.c: rank 0's MPI_Issend (small, 256 KiB,
# to itself) and started MPI_Ssend_init are in flight at each of 2 MPIX_Checkpoint calls; after
# each, MPI_Test, MPI_Request_get_status, MPI_Testany, MPI_Testsome and MPI_Testall must say not
# complete until rank 1 has received them (the drain completed them in the lower half: every one
# said complete, "(COMPLETE TOO EARLY)"), and MPI_Waitall must complete them once it has (the
# receiver's notice on the fresh lower half after a restart). The job's output, and that of a
# restart from each sequence K (rounds K on), must equal the uninterrupted native run's. 2 and 3 ranks.
flavor=$1
. "$(dirname "$0")/../mpienv.sh" || exit $?
. "$(dirname "$0")/ckptenv.sh" || exit $?
ck_prog sync_drain
rounds=2
for n in ${SYNC_DRAIN_NPS:-2 3}; do
    ck_workdir np$n
    run_native "$n" "$prog" $rounds >native.out 2>native.err ||
        { failed "np=$n: the native run: status $?"; show_err native.err; continue; }
    if grep -q 'TOO EARLY' native.out || ! grep -q '^done: ' native.out; then
        failed "np=$n: the native run itself says a synchronous send completed early"; sed 's/^/  /' native.out; continue
    fi
    clean timeout -k 5 300 "$wrapper" -am ft-enable-cr --ckpt-dir "$d" --ckpt-keep 10 -n "$n" \
        "$prog" $rounds >out.0 2>err.0; rc=$?
    j=$(ls -d "$d"/revive_global_snapshot_*.ckpt 2>/dev/null)
    seqs=$(ls "$j" 2>/dev/null | grep -x '[0-9]*' | sort -n | tr '\n' ' ')
    if [ $rc != 0 ] || ! cmp -s native.out out.0; then
        failed "np=$n: the job that runs on after its snapshots: status $rc$(cmp -s native.out out.0 || echo ', output differs from native')"
        diff native.out out.0 | head -12 | sed 's/^/  /'; show_err err.0; continue
    fi
    if [ "$seqs" != "0 1 " ]; then
        failed "np=$n: 2 MPIX_Checkpoint calls left sequences ${seqs:-none} (want 0 1)"; show_err err.0; continue
    fi
    bad=
    for k in 0 1; do
        # the restarted job prints from round k on: the native run's lines of those rounds
        awk -v k=$k '!/^round / || $2 >= k' native.out >want.r$k
        clean timeout -k 5 300 "$RESTART" "$j/$k" >out.r$k 2>err.r$k; rc=$?
        if [ $rc != 0 ] || ! cmp -s want.r$k out.r$k; then
            bad="$bad; sequence $k: status $rc$(cmp -s want.r$k out.r$k || echo ', output differs from native')"
            diff want.r$k out.r$k | head -12 | sed 's/^/  /'; show_err err.r$k
        fi
    done
    if [ -n "$bad" ]; then
        failed "np=$n: restarts: ${bad#; }"
    else
        pass "np=$n: synchronous sends the drain took stayed incomplete until received, in the job that ran on and in restarts from sequences $seqs: output as native ($(wc -l <native.out) lines)"
    fi
    left=$(no_strays "$d/") || failed "np=$n: processes left: $left"
done
exit $fail
