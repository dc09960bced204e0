#!/bin/bash
# restart.sh FLAVOR: a job checkpoints itself at step 1 (no coordinator: each rank calls the
# layer's pml_restart_capture, which the agent's capture uses) and ends as if killed; the same
# number of ranks started by the launcher as revive-restart-rank SNAPSHOT carry on. At 1, 2, 4
# and 8 ranks (REVIVE_TEST_QUICK=1: up to 4): the checksums of the original's steps followed by
# the restarted job's equal an uninterrupted run's; the snapshot restarts a second time with the
# same result; every rank reports its restart (generation 1). Then bad input for the restarter:
# another number of ranks, a missing snapshot, a damaged and a truncated image (the job ends,
# not only the rank that read it), no launcher.
flavor=$1
. "$(dirname "$0")/../mpienv.sh" || exit $?
. "$(dirname "$0")/ckptenv.sh" || exit $?
steps=5
nps="1 2 4 8"
[ "${REVIVE_TEST_QUICK:-0}" = 1 ] && nps="1 2 4"
for n in $nps; do
    d=$tmp/np$n
    mkdir -p "$d"
    run_native "$n" "$prog" $steps >"$d/native.out" 2>"$d/native.err"
    clean timeout -k 5 "$TMO" "$wrapper" -am ft-enable-cr -n "$n" "$prog" $steps "$d" 1 --exit \
        >"$d/orig.out" 2>"$d/orig.err"
    nimg=$(rank_images "$d/s1")
    if [ "$nimg" != "$n" ]; then
        failed "np=$n: $nimg of $n rank images written"; sed 's/^/  /' "$d/orig.err" | tail -5; continue
    fi
    for try in 1 2; do
        REVIVE_RESTART_REPORT=$d/report.$try restart_job "$n" "$d/s1" >"$d/r$try.out" 2>"$d/r$try.err"
        rc=$?
        gens=$(grep -c "restarted at step 1, generation 1," "$d/r$try.err")
        reps=$(grep -c "generation 1 namespace" "$d/report.$try" 2>/dev/null)
        if [ $rc != 0 ]; then
            failed "np=$n restart $try: status $rc"; show_err "$d/r$try.err"
        elif ! cmp -s <(results "$d/native.out") <(results "$d/orig.out" "$d/r$try.out"); then
            failed "np=$n restart $try: results differ from the uninterrupted run"
            diff <(results "$d/native.out") <(results "$d/orig.out" "$d/r$try.out") | head -8
        elif [ "$gens" != "$n" ] || [ "$reps" != "$n" ]; then
            failed "np=$n restart $try: $gens ranks said they were restarted, $reps reported it"
        else
            pass "np=$n restart $try: $(results "$d/native.out" | wc -l) result lines as uninterrupted;" \
                "$(sed -n 's/.*reload_ms \([0-9.]*\) replay_ms \([0-9.]*\).*/fresh MPI \1 ms, replay \2 ms/p' "$d/report.$try" | head -1) (rank 0)"
        fi
    done
done

# ---- bad input --------------------------------------------------------------------------------
n=2; d=$tmp/np2
if [ -d "$d/s1" ]; then
    restart_job 3 "$d/s1" >"$tmp/bad.out" 2>"$tmp/bad.err"; rc=$?
    if [ $rc != 0 ] && grep -q "the snapshot $d/s1 has 2 ranks (by the images in it), this job has 3: restart it with -np 2" "$tmp/bad.err"; then
        pass "another number of ranks: $(grep -m1 revive-restart-rank "$tmp/bad.err")"
    else
        failed "another number of ranks: status $rc"; tail -3 "$tmp/bad.err"
    fi
    restart_job 2 "$tmp/nowhere" >"$tmp/bad.out" 2>"$tmp/bad.err"; rc=$?
    if [ $rc != 0 ] && grep -q "$tmp/nowhere: No such file or directory" "$tmp/bad.err"; then
        pass "a missing snapshot: $(grep -m1 revive-restart-rank "$tmp/bad.err")"
    else
        failed "a missing snapshot: status $rc"; tail -3 "$tmp/bad.err"
    fi
    for how in damaged truncated; do
        b=$tmp/$how
        cp -r "$d/s1" "$b"
        size=$(stat -c %s "$b/rank_1.img")
        if [ $how = damaged ]; then
            printf 'XXXXXXXXXXXXXXXX' | dd of="$b/rank_1.img" bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
        else
            truncate -s $((size / 2)) "$b/rank_1.img"
        fi
        restart_job 2 "$b" >"$tmp/bad.out" 2>"$tmp/bad.err"; rc=$?
        # rank 0 restores and waits for rank 1 in its fresh MPI's start: the job must end because
        # rank 1 gave up (MPICH's launcher waited for ever before revive-restart-rank told it)
        if [ $rc = 124 ] || [ $rc = 137 ]; then
            failed "a $how image: the job did not end when rank 1 gave up (killed by the $TMO s timeout)"
            tail -4 "$tmp/bad.err"
        elif [ $rc != 0 ] && grep -q "revive-restart-rank: rank 1: .*rank_1.img" "$tmp/bad.err" &&
            ! grep -q "^step" "$tmp/bad.out"; then
            pass "a $how image: $(grep -m1 'revive-restart-rank: rank 1' "$tmp/bad.err" | cut -c1-160)"
        else
            failed "a $how image: status $rc"; tail -4 "$tmp/bad.err"
        fi
    done
    "$restarter" "$d/s1" >"$tmp/bad.out" 2>"$tmp/bad.err"; rc=$?
    if [ $rc = 1 ] && grep -q "no rank in the environment" "$tmp/bad.err"; then
        pass "not under a launcher: $(cat "$tmp/bad.err")"
    else
        failed "not under a launcher: status $rc"; cat "$tmp/bad.err"
    fi
fi
exit $fail
