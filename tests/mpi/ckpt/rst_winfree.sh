#!/bin/bash
# rst_winfree.sh FLAVOR: a rank parked by a snapshot at the entry of MPI_Win_free, then (another
# job) of MPI_Win_allocate, of a window of one rank (rst_winfree.c says how the moment is made),
# the other still computing before its own free, restarted. Each job (2 ranks, "mpirun -am
# ft-enable-cr", fault point mpi-park-late: rank 1's threads are parked for its image 1 s after
# the gate closed) is ended with "ckpt-mpirun --term" once rank 1 makes and frees windows in
# rounds; DIR/end is then made and "restart-mpi" runs it to its end. Fails unless rank 1 says
# the call began before the snapshot and returned after the restart, the lines of both
# generations (sorted: ranks print independently) equal an uninterrupted native run's (every
# free succeeded, every window's contents as filled), and no process is left. Open MPI's
# MPI_Win_allocate parked at its entry called the dead lower half's function after the restart
# (SIGSEGV), read before the entry.
flavor=$1
. "$(dirname "$0")/../mpienv.sh" || exit $?
. "$(dirname "$0")/ckptenv.sh" || exit $?
ck_prog rst_winfree
export REVIVE_RESTART_RANK=$restarter
lines() { grep -hE '^(step [0-9]+: |done: )' "$@" | sort; }
# cycle free|allocate TRY: the job, its snapshot and its restart with rank 1 parked at that call.
# The moment is made by timing (rank 1's next MPI call within the 1 s before its threads park
# must be the call tested, not the free or allocate of its round's other half): a try that missed
# it, whose lines are still right, sets missed=1 and the caller tries again, up to 3 times (a
# fresh-clone CI of b01708f missed it once in about a dozen CI runs; 3 of 3 runs right after hit it).
cycle() {
    local at=$1 try=$2 call=MPI_Win_$1 job
    ck_workdir $at.$try
    mkdir -p native && touch native/end
    run_native 2 "$prog" "$d/native" $at >native.out 2>native.err ||
        { failed "$at: the native run: status $?"; tail -n 3 native.err; return; }
    REVIVE_FAULT=mpi-park-late clean timeout -k 5 600 "$wrapper" -am ft-enable-cr --ckpt-dir "$d" -n 2 \
        "$prog" "$d" $at >out.0 2>err.0 &
    job=$!; pids+=($job)
    wait_for_job 120 $job '[ -e looping ]' || { failed "$at: rank 1 did not start its rounds: $(tail -n 3 err.0)"; return; }
    ref=$(checkpoint $job term --term) || { failed "$at: ckpt-mpirun --term: $(tail -n 2 ckpt.term.err)"; return; }
    wait $job
    touch end
    clean timeout -k 5 600 "$RESTART" "$ref" >out.1 2>err.1; rc=$?
    if [ $rc != 0 ]; then
        failed "$at: restart-mpi $ref: status $rc"; show_err err.1
    elif ! grep -q "^rank 1: an $call .* returned after the restart" err.1; then
        if [ "$(lines native.out)" != "$(lines out.0 out.1)" ]; then
            failed "$at: rank 1 was not parked in $call, and the lines differ from the uninterrupted run"
            diff <(lines native.out) <(lines out.0 out.1)
        elif [ "$try" -lt 3 ]; then
            echo "NOTE: $at: try $try missed the moment (rank 1 was not parked in $call; the restarted lines are right): trying again"
            missed=1
        else
            failed "$at: rank 1 was not parked in $call in the snapshot in 3 tries (the moment was missed)"
            show_err err.0 err.1
        fi
    elif [ "$(lines native.out)" = "$(lines out.0 out.1)" ]; then
        pass "$at: 2 ranks, rank 1 parked at $call of a window of one rank in the snapshot, rank 0" \
            "computing before its free: restarted, $(lines out.0 out.1 | wc -l) lines as uninterrupted"
    else
        failed "$at: the lines differ from the uninterrupted run"; diff <(lines native.out) <(lines out.0 out.1)
    fi
    left=$(no_strays "$d") || failed "$at: processes left: $left"
}
for at in free allocate; do
    for try in 1 2 3; do
        missed=0
        cycle $at $try
        [ $missed = 1 ] || break
    done
done
exit $fail
