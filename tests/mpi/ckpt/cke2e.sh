#!/bin/sh
# cke2e.sh PROGRAM FLAVOR: end to end through the coordinator. Runs tests/mpi/ckpt/PROGRAM-FLAVOR
# under "mpirun -am ft-enable-cr" with 2 and 4 ranks, takes snapshots at random moments with
# ckpt-mpirun while it runs (the job continues), then compares its output with a native run and
# checks the snapshots with ckpt-info --verify. Fails unless the outputs are identical, every
# ckpt-mpirun committed a snapshot and every snapshot verifies.
prog=$1 flavor=$2
. "$(dirname "$0")/../mpienv.sh" || exit $?
bin=$REVIVE_BUILDDIR/tests/mpi/ckpt/$prog-$flavor
ckpt=$REVIVE_BUILDDIR/tools/snapc/ckpt-mpirun
info=$REVIVE_BUILDDIR/tools/snapc/ckpt-info
[ -x "$bin" ] || { echo "SKIP: $bin not built"; exit 77; }
[ -x "$ckpt" ] && [ -x "$info" ] || { echo "SKIP: ckpt-mpirun/ckpt-info not built"; exit 77; }
TMO=${REVIVE_MPI_TIMEOUT:-120}
fail=0
cd "$tmp" || exit 1
for n in 2 4; do
    # a few seconds natively (MPICH's progress is much slower than Open MPI's on 2 shared cores)
    case $prog-$flavor in
    ck_coll-ompi) rounds=$((20000 / n)) ;;
    ck_coll-mpich) rounds=$((3000 / n)) ;;
    ck_p2p-ompi) rounds=$((1600 / n)) ;;
    ck_p2p-mpich) rounds=$((300 / n)) ;;
    *) rounds=1000 ;;
    esac
    rm -rf revive_global_snapshot_* "$tmp/ck.err"
    run_native "$n" "$bin" "$rounds" >"$tmp/native.out" 2>"$tmp/native.err"; rn=$?
    run_revive "$n" "$bin" "$rounds" >"$tmp/revive.out" 2>"$tmp/revive.err" &
    job=$!
    taken=0 failed=0
    for k in 1 2 3; do
        sleep "0.$(shuf -i 1-5 -n 1)"
        # the coordinator: the launcher wrapper's process (under timeout, under the subshell)
        coord=
        for c in $(pgrep -P "$(pgrep -P "$job" | head -1)" 2>/dev/null); do
            [ "$(cat /proc/"$c"/comm 2>/dev/null)" = revive-coord ] && coord=$c
        done
        [ -n "$coord" ] || break
        if timeout 60 "$ckpt" --wait "$coord" >"$tmp/ref" 2>>"$tmp/ck.err"; then
            taken=$((taken + 1))
        elif kill -0 "$job" 2>/dev/null; then
            failed=$((failed + 1))   # refused while the job ran: a failure (not the job's end)
        fi
    done
    wait "$job"; rr=$?
    bad=$("$info" --verify revive_global_snapshot_*.ckpt 2>&1 | grep -v ': ok ' | grep -iE 'fail|bad|corrupt|error' | head -3)
    if [ $rn != 0 ] || [ $rr != 0 ]; then
        echo "FAIL np=$n: exit status native $rn, revive $rr"; tail -5 "$tmp/revive.err" | sed 's/^/  revive: /'; fail=1
    elif ! cmp -s "$tmp/native.out" "$tmp/revive.out"; then
        echo "FAIL np=$n: outputs differ after $taken snapshots"; diff "$tmp/native.out" "$tmp/revive.out" | head; fail=1
    elif [ $failed != 0 ] || [ $taken = 0 ]; then
        echo "FAIL np=$n: $taken snapshots committed, $failed refused"; tail -5 "$tmp/ck.err"; fail=1
    elif [ -n "$bad" ]; then
        echo "FAIL np=$n: ckpt-info --verify: $bad"; fail=1
    else
        echo "ok np=$n: identical output with $taken snapshots taken while it ran; $(grep -h 'ms from the request' "$tmp/ck.err" | tail -1 | sed 's/^ckpt-mpirun: *//')"
    fi
done
exit $fail
