#!/bin/bash
# mpix_storm.sh FLAVOR: MPIX_Checkpoint called by every rank again and again (ck_mpix: every
# third round, with MPIX_Checkpoint_request now and then) while ckpt-mpirun requests arrive
# from outside, under the real coordinator (mpirun -am ft-enable-cr), 2 and 4 ranks. A request
# that meets an epoch joins it or waits for the next (ckpt-mpirun --wait); an MPIX_Checkpoint
# whose point an epoch already took returns at once on every rank (a rank still computing
# before its call when an epoch with its cut committed waited for another epoch, which could
# not come: the others were in the next collective; session 4's ck_mpix hang). Fails unless
# the job ends with status 0 (ck_mpix exits 3 when an MPIX call does not return
# MPI_SUCCESS/CONTINUE), prints the checksums of a native run, every ckpt-mpirun ends with
# status 0 (but those after the last commit, which meet the job's end) and at least one
# committed, within the bounds (no hang).
flavor=$1
. "$(dirname "$0")/../mpienv.sh" || exit $?
. "$(dirname "$0")/ckptenv.sh" || exit $?
CKPT=$REVIVE_BUILDDIR/tools/snapc/ckpt-mpirun
bin=$REVIVE_BUILDDIR/tests/mpi/ckpt/ck_mpix-$flavor
[ -x "$CKPT" ] && [ -x "$bin" ] || { echo "SKIP: ckpt-mpirun or $bin not built"; exit 77; }
rounds=${MPIX_STORM_ROUNDS:-90}
d=$tmp/storm
mkdir -p "$d"
cd "$d" || exit 1
pids=()
for n in ${MPIX_STORM_NPS:-2 4}; do
    rm -rf "$d"/revive_global_snapshot_*
    TMO=600 run_native "$n" "$bin" $rounds >native.$n.out 2>native.$n.err ||
        { failed "np=$n: the native run: status $?"; tail -n 3 native.$n.err; continue; }
    clean timeout -k 5 900 "$wrapper" -am ft-enable-cr --ckpt-dir "$d" -n "$n" "$bin" $rounds \
        >out.$n 2>err.$n &
    job=$!; pids+=($job)
    c=$(coord $job) || { failed "np=$n: no coordinator under the job"; wait $job; continue; }
    k=0 ok=0 bad= late=
    while kill -0 $job 2>/dev/null; do
        k=$((k + 1))
        timeout -k 5 300 "$CKPT" --wait $c >ckpt.$n.$k.out 2>ckpt.$n.$k.err; crc=$?
        if [ $crc = 0 ]; then
            ok=$((ok + 1))
            bad="$bad$late" late= # a failure before a commit: not the job's end
        else
            late="$late; ckpt-mpirun #$k: status $crc: $(grep -v '^\[' ckpt.$n.$k.err | tail -n 1)"
        fi
    done
    # the requests that failed after the last commit met the job's end (a rank finalizing or
    # gone): refused rightly
    wait $job; st=$?
    if [ $st != 0 ]; then
        failed "np=$n: the job's status $st$bad$late"; grep -v '^\[' err.$n | tail -n 4
    elif [ -n "$bad" ]; then
        failed "np=$n: ${bad#; }"
    elif ! cmp -s native.$n.out out.$n; then
        failed "np=$n: outputs differ"; diff native.$n.out out.$n | head -n 10
    elif [ $ok -lt 1 ]; then
        failed "np=$n: no request of ckpt-mpirun was committed ($k asked)"
    else
        pass "np=$n: $rounds rounds with MPIX_Checkpoint every third; $ok of $k ckpt-mpirun requests committed meanwhile; checksums as natively"
    fi
done
exit $fail
