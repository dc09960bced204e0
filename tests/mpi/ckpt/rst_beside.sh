#!/bin/bash
# rst_beside.sh FLAVOR: restart-mpi of a snapshot while the original job still runs (rst_beside.c,
# 2 ranks; "shm": sharing a /dev/shm object and counting in it; "listen": each rank holds a TCP
# listener and counts in memory of its own). For each case:
#   - a snapshot taken with ckpt-mpirun (the job goes on, paced);
#   - restart-mpi of it beside the running original: refused, status non-zero, in a message
#     naming what the original still holds: the shared memory object /dev/shm/NAME and the
#     process using it (before: the restart wrote the image's bytes over the original's object
#     and both jobs counted in it, wrong totals, exit 0: review 13 HIGH-13), or the address of
#     the listener and the process holding it, never TIME-WAIT (review 13 MEDIUM-7); it prints
#     no result line;
#   - the original, let go, prints every line of an uninterrupted run (its object untouched);
#   - the snapshot is not marked failed: once the original has ended, restart-mpi of the
#     snapshot DIRECTORY (the newest usable sequence: a mark would have made it skip this one, the
#     only one) finishes the run with the uninterrupted run's last lines, the ranks sharing their
#     object again (one count for both).
# No process is left.
flavor=$1
. "$(dirname "$0")/../mpienv.sh" || exit $?
. "$(dirname "$0")/ckptenv.sh" || exit $?
ck_prog rst_beside
np=2 steps=40 ms=250
for kind in shm listen; do
    ck_workdir $kind
    extra=() name=/revive_rst_beside.$$ native_name=/revive_rst_beside.$$.native
    [ $kind = listen ] && extra=(listen) name=- native_name=-
    run_native $np "$prog" $steps "$d/nopace" 0 "$native_name" "${extra[@]}" >native.out 2>native.err ||
        { failed "$kind: the native run: status $?"; tail -n 3 native.err; continue; }
    touch pace
    clean timeout -k 5 600 "$wrapper" -am ft-enable-cr --ckpt-dir "$d" -n $np "$prog" $steps "$d/pace" $ms \
        "$name" "${extra[@]}" >out.0 2>err.0 &
    job=$!; pids+=($job)
    if ! wait_steps out.0 2 $job; then
        failed "$kind: the job printed no step"; tail -n 3 err.0; rm -f pace; wait $job; continue
    fi
    # the snapshot while the ranks hold (pace.hold: in MPI, the object untouched): each rank's
    # image then has the same bytes of it, however late its image is written (the job runs on)
    touch pace.hold
    if ! ref=$(checkpoint $job cont); then
        failed "$kind: ckpt-mpirun: $(tail -n 2 ckpt.cont.err | tr '\n' ' ')"; rm -f pace pace.hold; wait $job; continue
    fi
    at=$(nsteps out.0)
    # beside the running original (paced: it holds before its last step while the pace file exists)
    clean timeout -k 5 300 "$RESTART" "$ref" >out.1 2>err.1; rc=$?
    kill -0 $job 2>/dev/null || failed "$kind: the original ended before the restart beside it was done"
    if [ $rc = 0 ]; then
        failed "$kind: restart-mpi beside the running original: status 0 (the two jobs share what the original holds)"
    elif [ $kind = shm ] && ! grep -q "shared memory object /dev/shm$name .*in use by process [0-9]*: the original job (launcher [0-9]" err.1; then
        failed "$kind: restart-mpi beside the original: status $rc without naming the object and its process"
        show_err err.1
    elif [ $kind = listen ] && ! grep -q 'another process holds that address: the original job (launcher [0-9]*, [^;]*; its process [0-9]*, [^)]*) still runs and holds it' err.1; then
        failed "$kind: restart-mpi beside the original: status $rc without saying the original holds the address"
        show_err err.1
    elif grep -qi 'time-wait' err.1; then
        failed "$kind: restart-mpi beside the original blames TIME-WAIT"; show_err err.1
    elif [ -n "$(results out.1)" ]; then
        failed "$kind: the refused restart printed result lines: $(results out.1 | head -n 1)"
    else
        pass "$kind: restart-mpi beside the original (snapshot taken by step $at) refused, status $rc:" \
            "$(grep -m1 -E 'in use by process|still runs and holds' err.1 | cut -c1-300)"
    fi
    rm -f pace pace.hold
    wait $job; st=$?
    if [ $st != 0 ] || ! cmp -s <(results native.out) <(results out.0); then
        failed "$kind: the original (status $st) differs from the uninterrupted run"
        diff <(results native.out) <(results out.0) | head -n 6
    else
        pass "$kind: the original, beside the refused restart, printed the uninterrupted run's $(results out.0 | wc -l) lines"
    fi
    # the snapshot is fine: restart-mpi of the snapshot directory must take it
    clean timeout -k 5 600 "$RESTART" "${ref%/*}" >out.1 2>err.1; rc=$?
    tail_verdict "$kind: restart-mpi of the snapshot directory once the original ended"
    left=$(no_strays "$d/") || { failed "$kind: processes left: $left"; kill -KILL $(awk '{print $1}' <<<"$left") 2>/dev/null; }
    [ $kind = shm ] && rm -f "/dev/shm$name" "/dev/shm$native_name"
done
exit $fail
