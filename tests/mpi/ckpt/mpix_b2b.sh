#!/bin/bash
# mpix_b2b.sh FLAVOR: MPIX_Checkpoint called 4 times back to back with only local work between
# (20 ms and a change of each rank's state; newuser7c F2), under the real coordinator, 2 ranks.
# Every call must take its own snapshot: the job directory holds sequences 0-3 and every call
# returned MPI_SUCCESS (a call whose point is the previous call's cut returned at once without
# a snapshot, every second one: 2 sequences for 4 calls, and the work between was in none).
# A restart from each sequence K must come back in call K only (restarted there, not at the
# calls after it; they take new snapshots) and print what the uninterrupted native run printed.
flavor=$1
. "$(dirname "$0")/../mpienv.sh" || exit $?
. "$(dirname "$0")/ckptenv.sh" || exit $?
ck_prog mpix_b2b
nck=4 gap=20000
for n in ${MPIX_B2B_NPS:-2}; do
    ck_workdir np$n
    run_native "$n" "$prog" $nck $gap >native.out 2>native.err ||
        { failed "np=$n: the native run: status $?"; tail -n 3 native.err; continue; }
    clean timeout -k 5 600 "$wrapper" -am ft-enable-cr --ckpt-dir "$d" --ckpt-keep 10 -n "$n" \
        "$prog" $nck $gap >out.0 2>err.0; rc=$?
    j=$(ls -d "$d"/revive_global_snapshot_*.ckpt 2>/dev/null)
    if [ $rc != 0 ] || [ "$(echo "$j" | grep -c .)" != 1 ]; then
        failed "np=$n: the job: status $rc, job directories: ${j:-none}"; show_err err.0; continue
    fi
    if ! cmp -s native.out out.0; then
        failed "np=$n: the checkpointed job's output differs from the native run's"
        diff native.out out.0 | head -4; continue
    fi
    seqs=$(ls "$j" | grep -x '[0-9]*' | sort -n | tr '\n' ' ')
    calls=$(grep -c '^mpix_b2b: call [0-9]* rc 0 restarted 0$' err.0)
    if [ "$seqs" != "0 1 2 3 " ] || [ "$calls" != $nck ]; then
        failed "np=$n: $nck back-to-back MPIX_Checkpoint calls ($calls returned MPI_SUCCESS) left sequences ${seqs:-none} (want 0 1 2 3)"
        grep '^mpix_b2b' err.0 | sed 's/^/  /'; continue
    fi
    bad=
    for k in $(seq 0 $((nck - 1))); do
        clean timeout -k 5 600 "$RESTART" "$j/$k" >out.r$k 2>err.r$k; rc=$?
        want=$(for c in $(seq $k $((nck - 1))); do echo "mpix_b2b: call $c rc 0 restarted $([ $c = $k ] && echo 1 || echo 0)"; done)
        got=$(grep '^mpix_b2b' err.r$k)
        if [ $rc != 0 ] || [ "$got" != "$want" ] || ! cmp -s native.out out.r$k; then
            bad="$bad; sequence $k: status $rc, calls: $(echo "$got" | sed 's/mpix_b2b: //' | tr '\n' ',')$(cmp -s native.out out.r$k || echo ' output differs')"
        fi
    done
    if [ -n "$bad" ]; then
        failed "np=$n: restarts (each must come back in its own call only): ${bad#; }"
    else
        pass "np=$n: $nck back-to-back MPIX_Checkpoint calls took sequences $seqs; each restart came back in its own call only, output as native: $(cat out.0)"
    fi
    left=$(no_strays "$d/") || failed "np=$n: processes left: $left"
done
exit $fail
