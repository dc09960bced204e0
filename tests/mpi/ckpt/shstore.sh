#!/bin/bash
# shstore.sh FLAVOR: a store by one rank's thread, outside MPI, into another rank's part of a
# shared window while a snapshot is taken is in the restarted window (campaign-failures.md #26).
# shstore (2 ranks): rank 1 counts in rank 0's part and in its own memory; rank 0 compares them
# after every step. The job runs with fault point mpi-park-late: rank 1's threads are parked for
# its image 1 s after rank 0's, so rank 1 counts on for up to that second after rank 0 stopped.
# Fault point mpi-meet-absent: at the first checkpoint rank 1 fails its capture before parking.
#   - that checkpoint fails (ckpt-mpirun non-zero; rank 0 waited for rank 1 at most
#     REVIVE_WIN_MEET_S, 8 s here: the default 30 s was most of the test's time) and the job
#     goes on;
# ckpt-mpirun --term while rank 1 counts, then restart-mpi of the snapshot:
#   - the job before the snapshot, and the restarted one to the end, say "ok" at every step and
#     lose nothing ("done: ... 0 lost"), and the steps add up to the run's.
# Before the members of a shared window met after parking (win_ckpt.c), rank 0 copied its part
# at once and the restarted job said LOST at every step after the snapshot.
# 2. (shstore segs) 24 shared windows live at once on one communicator add no more shared
#    mappings to a rank under "mpirun -am ft-enable-cr" than natively, but for one meeting place
#    of the layer's (its mappings per window at most): until session 40 the layer made a second
#    shared window beside each (twice the native count; ~3x native time per
#    MPI_Win_allocate_shared, bench/mpi/winalloc.sh).
# 3. (shstore loop) the job of part 1 after 12 rounds of shared windows made and freed (on the
#    node's communicator, on a duplicate freed with its window, on a duplicate freed while its
#    window lives), counting into two windows, one of them on a communicator freed before the
#    snapshot, and making a window at every step; mpi-park-late as in part 1: ckpt-mpirun --term,
#    restart-mpi, ckpt-mpirun --term of the restarted job, restart-mpi to the end; the three
#    generations' lines equal the native run's (every step ok, nothing lost).
flavor=$1
export REVIVE_MPI_TIMEOUT=${REVIVE_MPI_TIMEOUT:-240}
. "$(dirname "$0")/../mpienv.sh" || exit $?
. "$(dirname "$0")/ckptenv.sh" || exit $?
ck_prog shstore
steps=40 iter=100000000
ck_workdir shstore
fx=()
[ "$flavor" = ompi ] && fx=(-x REVIVE_FAULT -x REVIVE_WIN_MEET_S)
touch pace
REVIVE_FAULT=mpi-park-late,mpi-meet-absent REVIVE_WIN_MEET_S=8 clean timeout -k 5 600 "$wrapper" -am ft-enable-cr --ckpt-dir "$d" \
    -n 2 "${fx[@]}" "$prog" $steps "$d/pace" $iter >out.0 2>err.0 &
job=$!; pids+=($job)
if ! wait_steps out.0 2 $job || ! c=$(coord $job); then
    failed "the job printed no step"; tail -n 3 err.0; exit 1
fi
if timeout -k 5 300 "$CKPT" --wait $c >ckpt.absent.out 2>ckpt.absent.err; then
    failed "the checkpoint committed though rank 1 failed its capture (mpi-meet-absent)"
elif k=$(nsteps out.0) && ! wait_steps out.0 $((k + 2)) $job; then
    failed "the job did not go on after the failed checkpoint"; tail -n 3 err.0; exit 1
else
    pass "$flavor: the checkpoint without rank 1 failed: $(tail -n1 ckpt.absent.err | cut -c1-150);" \
        "the job went on"
fi
timeout -k 5 300 "$CKPT" --wait --term $c >ckpt.out 2>ckpt.err; crc=$?
[ $crc = 0 ] || kill -TERM $c
wait $job; st=$?
if [ $crc != 0 ] || [ $st != 0 ]; then
    failed "ckpt-mpirun --term: status $crc ($(tail -n1 ckpt.err)), the job's $st"; exit 1
fi
rm -f pace
clean timeout -k 5 600 "$RESTART" "$(tail -n1 ckpt.out)" >out.1 2>err.1; rc=$?
n=$(cat out.0 out.1 | grep -c '^step [0-9]*: ok$')
if [ $rc != 0 ]; then
    failed "restart-mpi: status $rc"; show_err err.1
elif grep -q LOST out.0 out.1 || ! grep -q "^done: $steps steps, 0 lost" out.1 ||
    [ "$n" != $steps ]; then
    failed "stores of rank 1 into rank 0's part were lost or steps are missing ($n of $steps ok)"
    grep -m3 -h LOST out.0 out.1
else
    pass "$flavor: --term after step $(nsteps out.0), restarted: every one of $steps steps ok," \
        "nothing lost"
fi

# 2.
ck_workdir segs
run_native 2 "$prog" 0 - 0 segs >native.out 2>native.err
clean timeout -k 5 300 "$wrapper" -am ft-enable-cr -n 2 "$prog" 0 - 0 segs >revive.out 2>revive.err
nw=$(sed -n 's/^segments: \([0-9]*\) windows, \([0-9]*\) shared mappings$/\1/p' native.out)
nm=$(sed -n 's/^segments: [0-9]* windows, \([0-9]*\) shared mappings$/\1/p' native.out)
rm_=$(sed -n 's/^segments: [0-9]* windows, \([0-9]*\) shared mappings$/\1/p' revive.out)
if [ -z "$nm" ] || [ -z "$rm_" ] || [ "$nm" -lt "$nw" ]; then
    failed "2: no count of shared mappings (native: '$(tail -n1 native.out)', Revive:" \
        "'$(tail -n1 revive.out)')"; show_err native.err revive.err
elif [ "$rm_" -gt $((nm + nm / nw)) ]; then
    failed "2: $nw shared windows added $rm_ shared mappings under Revive, $nm natively: the layer" \
        "makes more than one meeting place for a communicator"
else
    pass "$flavor: $nw live shared windows: $rm_ shared mappings under Revive, $nm natively"
fi

# 3.
ck_workdir loop
steps=30 iter=20000000
run_native 2 "$prog" $steps "$d/nopace" $iter loop >native.out 2>native.err ||
    { failed "3: the native run: status $?"; tail -n 3 native.err; exit 1; }
touch pace
REVIVE_FAULT=mpi-park-late clean timeout -k 5 600 "$wrapper" -am ft-enable-cr --ckpt-dir "$d" -n 2 \
    "${fx[@]}" "$prog" $steps "$d/pace" $iter loop >out.0 2>err.0 &
job=$!; pids+=($job)
wait_steps out.0 2 $job && ref=$(checkpoint $job 0 --term) ||
    { rm -f pace; failed "3: generation 0: no snapshot"; show_err ckpt.0.err err.0; exit 1; }
wait $job
clean timeout -k 5 600 "$RESTART" "$ref" >out.1 2>err.1 &
job=$!; pids+=($job)
k=$(nsteps out.0)
wait_steps out.1 2 $job && ref=$(checkpoint $job 1 --term) ||
    { rm -f pace; failed "3: the restarted job: no snapshot"; show_err ckpt.1.err err.1; exit 1; }
wait $job
rm -f pace
clean timeout -k 5 600 "$RESTART" "$ref" >out.2 2>err.2; rc=$?
results out.0 out.1 out.2 >all.out
if [ $rc != 0 ]; then
    failed "3: the second restart-mpi: status $rc"; show_err err.2
elif [ "$(nsteps out.2)" = 0 ]; then
    failed "3: the second snapshot came after the last step"
elif ! grep -q "^loop: 12 rounds of 3 windows, 0 bad$" native.out out.0; then
    failed "3: the windows made and freed before the snapshot: $(grep -h '^loop' native.out out.0)"
elif cmp -s <(results native.out) all.out; then
    pass "$flavor: 36 shared windows made and freed, two held on two communicators (one freed):" \
        "--term after step $k, restarted, --term after step $(($(nsteps out.1) + k)), restarted:" \
        "$(wc -l <all.out) result lines as native: $(tail -n1 all.out)"
else
    failed "3: the results differ from the uninterrupted run"; diff <(results native.out) all.out | head
fi
exit $fail
