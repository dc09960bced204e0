#!/bin/bash
# cke2e.sh PROGRAM FLAVOR: end to end through the coordinator. Runs tests/mpi/ckpt/PROGRAM-FLAVOR
# under "mpirun -am ft-enable-cr" with 2 and 4 ranks, takes 3 snapshots with ckpt-mpirun while it
# runs (the job continues), then compares its output with a native run and checks the snapshots
# with ckpt-info --verify. Fails unless the outputs are identical, all 3 ckpt-mpirun committed a
# snapshot and every snapshot verifies.
#
# Timing: the programs run half a second at low load and minutes at load 25, so the test never
# bets on the job still running: under Revive the ranks wait before MPI_Finalize until the test
# has made its requests (ck_hold.h: the load can drop between the native run and this one, and
# a job then ended before the first request, "there is no process"). The first snapshot is
# asked for at a random moment early in the run (within a tenth of the native run's time at
# the same load, at most 200 ms, from the coordinator's start; --wait queues it while the ranks
# start) with --stop: the ranks stop themselves once it is committed. While they are stopped
# the second request starts its epoch and the third (--wait) is queued behind it; SIGCONT to
# mpirun (the coordinator continues the ranks) lets both be taken back to back, then the job
# runs to its end.
prog=$1 flavor=$2
. "$(dirname "$0")/../mpienv.sh" || exit $?
bin=$REVIVE_BUILDDIR/tests/mpi/ckpt/$prog-$flavor
ckpt=$REVIVE_BUILDDIR/tools/snapc/ckpt-mpirun
info=$REVIVE_BUILDDIR/tools/snapc/ckpt-info
[ -x "$bin" ] || { echo "SKIP: $bin not built"; exit 77; }
[ -x "$ckpt" ] && [ -x "$info" ] || { echo "SKIP: ckpt-mpirun/ckpt-info not built"; exit 77; }
TMO=${REVIVE_MPI_TIMEOUT:-300}
export REVIVE_SOCKET_DIR=$tmp/sock
fail=0
# a failed test keeps its folder (the snapshots, every command's messages) and names it
trap 'if [ $fail != 0 ]; then echo "work folder kept for inspection: $tmp"; else rm -rf "$tmp"; fi' EXIT
cd "$tmp" || exit 1

# coord_under PID: the job's coordinator below PID (the background job), if any: the revive-coord
# process with its socket coord.PID in REVIVE_SOCKET_DIR. (A process named revive-coord was not
# enough: the wrapper's ^C sentinel ran as one until it ended, before the wrapper execs the
# coordinator, and the CI of 49673d54 checkpointed it: "there is no process".)
coord_under() {
    local s p q comm
    for s in "$REVIVE_SOCKET_DIR"/coord.*; do
        [ -S "$s" ] || continue
        p=${s##*/coord.} q=$p
        read -r comm 2>/dev/null </proc/$p/comm && [ "$comm" = revive-coord ] || continue
        while [ "$q" -gt 1 ] && [ "$q" != "$1" ]; do
            q=$(awk '/^PPid:/ { print $2 }' /proc/$q/status 2>/dev/null) || break
            [ -n "$q" ] || break
        done
        [ "$q" = "$1" ] && { echo "$p"; return 0; }
    done
    return 1
}
# rand_sleep MAX: sleeps a random number of milliseconds in 0..MAX
rand_sleep() { local ms; ms=$(shuf -i 0-"$1" -n 1); sleep "$((ms / 1000)).$(printf %03d $((ms % 1000)))"; }
# ranks_under PID: the job's ranks (processes below PID running the program), with their state.
# The program's name as ps shows it (15 characters) found once: wait_for looks every 50 ms
bin_comm=$(basename "$bin" | cut -c1-15)
ranks_under() {
    ps -e -o pid=,ppid=,stat=,comm= | awk -v top="$1" -v name="$bin_comm" '
        { ppid[$1] = $2; st[$1] = $3; comm[$1] = $4 }
        END { for (p in comm) if (comm[p] == name) {
                  q = p; while (q > 1 && q != top) q = ppid[q]
                  if (q == top) print p, substr(st[p], 1, 1) } }'
}
# all_stopped PID N: the N ranks under PID are stopped (state T)
all_stopped() { [ "$(ranks_under "$1" | grep -c ' T$')" = "$2" ]; }
# wait_for SECONDS CONDITION: 0 once CONDITION holds, 1 after SECONDS. (The return 0 matters:
# an until loop's status is its body's last command's, so without it a condition that held
# only after a first look returned 1 from the failed time test: "the ranks did not stop after
# the first snapshot (--stop)" while the same message listed every rank stopped.)
wait_for() {
    local t=0 max=$(( $1 * 20 ))
    until eval "$2"; do nap 0.05; t=$((t + 1)); [ $t -ge $max ] && return 1; done
    return 0
}

failed_before=0
for n in 2 4; do
    fail=$((fail | failed_before)) failed_before=$fail fail=0 # (fail: this round's)
    # about a second natively at low load (MPICH's progress is much slower than Open MPI's on 2
    # shared cores; at load 35 these took minutes): the snapshots do not need a long run
    case $prog-$flavor in
    ck_coll-ompi) rounds=$((4000 / n)) ;;
    ck_coll-mpich) rounds=$((600 / n)) ;;
    ck_p2p-ompi) rounds=$((800 / n)) ;;
    ck_p2p-mpich) rounds=$((150 / n)) ;;
    *) rounds=1000 ;;
    esac
    rm -rf revive_global_snapshot_*
    # (emptied here, not by the background commands' redirections: a wait for a line in them
    # must not see the previous round's)
    : >"$tmp/ck.err"; : >"$tmp/ck2.err"; : >"$tmp/ck3.err"
    t0=$(date +%s%N)
    run_native "$n" "$bin" "$rounds" >"$tmp/native.out" 2>"$tmp/native.err"; rn=$?
    tn=$(( ($(date +%s%N) - t0) / 1000000 ))
    # at low load the rounds above took 0.3 s (CI of 25181ec: the job had reached MPI_Finalize
    # before the third snapshot, queued behind the second, could begin): more rounds, so that the
    # job runs at least 1.5 s whatever the load
    if [ "$rn" = 0 ] && [ "$tn" -gt 0 ] && [ "$tn" -lt 1500 ]; then
        rounds=$((rounds * ((1500 + tn - 1) / tn)))
        t0=$(date +%s%N)
        run_native "$n" "$bin" "$rounds" >"$tmp/native.out" 2>"$tmp/native.err"; rn=$?
        tn=$(( ($(date +%s%N) - t0) / 1000000 ))
    fi
    # (at most 200 ms: the load may drop between the native run and this one)
    step=$((tn / 10)); [ $step -gt 200 ] && step=200
    hold=$tmp/hold.$n
    rm -f "$hold"
    run_revive "$n" "$bin" "$rounds" "$hold" >"$tmp/revive.out" 2>"$tmp/revive.err" &
    job=$!
    taken=0 failed=0 coord=
    # the coordinator: Revive's mpirun execs it (the wrapper is a script until then)
    for t in $(seq 1 1200); do
        coord=$(coord_under "$job")
        [ -n "$coord" ] || ! kill -0 "$job" 2>/dev/null && break
        nap 0.05
    done
    if [ -z "$coord" ]; then
        echo "FAIL np=$n: no job coordinator appeared under the job"; tail -5 "$tmp/revive.err"; fail=1
        touch "$hold"; wait "$job"; fail=1; continue
    fi
    rand_sleep "$step"
    if timeout 300 "$ckpt" --wait --stop "$coord" >"$tmp/ref" 2>>"$tmp/ck.err"; then
        taken=1
        # the ranks stop themselves once their gates are open: the next requests are made once
        # every rank has (a SIGCONT before would be lost), the second starting its epoch at
        # once, the third queued behind it; then SIGCONT to mpirun continues the ranks
        if wait_for 120 'all_stopped "$job" $n'; then
            timeout 300 "$ckpt" --status "$coord" >"$tmp/ref2" 2>>"$tmp/ck2.err" & c2=$!
            wait_for 120 'grep -q "] Requested" "$tmp/ck2.err" || ! kill -0 $c2 2>/dev/null'
            timeout 300 "$ckpt" --wait --status "$coord" >"$tmp/ref3" 2>>"$tmp/ck3.err" & c3=$!
            wait_for 120 'grep -q "] Queued" "$tmp/ck3.err" || ! kill -0 $c3 2>/dev/null'
            kill -CONT "$coord"
            if wait $c2; then taken=$((taken + 1)); else failed=$((failed + 1)); fi
            if wait $c3; then taken=$((taken + 1)); else failed=$((failed + 1)); fi
            grep -hv '^\[' "$tmp/ck2.err" "$tmp/ck3.err" >>"$tmp/ck.err"
            grep -q "] Queued (after the checkpoint in progress" "$tmp/ck3.err" ||
                echo "  the third request was not queued behind the second: $(head -3 "$tmp/ck3.err")"
        else
            echo "  the ranks did not stop after the first snapshot (--stop): $(ranks_under "$job" | tr '\n' ' ')"
        fi
    else
        failed=1
    fi
    kill -CONT "$coord" 2>/dev/null
    touch "$hold" # the ranks go on to MPI_Finalize
    wait "$job"; rr=$?
    bad=$("$info" --verify revive_global_snapshot_*.ckpt 2>&1 | grep -v ': ok ' | grep -iE 'fail|bad|corrupt|error' | head -3)
    if [ $rn != 0 ] || [ $rr != 0 ]; then
        echo "FAIL np=$n: exit status native $rn, revive $rr"; tail -5 "$tmp/revive.err" | sed 's/^/  revive: /'; fail=1
        grep -hv '^\[' "$tmp/ck.err" "$tmp/ck2.err" "$tmp/ck3.err" | tail -8 | sed 's/^/  ckpt-mpirun: /'
    elif ! cmp -s "$tmp/native.out" "$tmp/revive.out"; then
        echo "FAIL np=$n: outputs differ after $taken snapshots"; diff "$tmp/native.out" "$tmp/revive.out" | head; fail=1
    elif [ $failed != 0 ] || [ $taken != 3 ]; then
        echo "FAIL np=$n: $taken snapshots committed, $failed not (native run $tn ms)"; tail -5 "$tmp/ck.err"; fail=1
    elif [ -n "$bad" ]; then
        echo "FAIL np=$n: ckpt-info --verify: $bad"; fail=1
    else
        echo "ok np=$n: identical output with $taken snapshots taken while it ran (native $tn ms); $(grep -h 'ms from the request' "$tmp/ck.err" | tail -1 | sed 's/^ckpt-mpirun: *//')"
    fi
    # a failed round's files are kept apart (the next round starts afresh)
    [ $fail != 0 ] && mkdir -p "$tmp/failed.np$n" &&
        mv "$tmp"/*.out "$tmp"/*.err "$tmp"/ref* revive_global_snapshot_* "$tmp/failed.np$n/" 2>/dev/null
done
fail=$((fail | failed_before))
exit $fail
