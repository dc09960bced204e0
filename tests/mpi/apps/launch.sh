#!/bin/sh
# launch.sh FLAVOR: the launcher behaves the same natively and under Revive ("mpirun -am
# ft-enable-cr"), with launchprog (launchprog.c):
#   output  the same stdout and stderr lines (compared sorted: ranks interleave), status 0
#   abort   MPI_Abort(MPI_COMM_WORLD, 7) on rank 1 ends the job, same exit status as native
#   exit    a rank exiting 3 after MPI_Finalize: same exit status as native
#   SIGINT, SIGTERM sent to the launcher while the ranks run: the job ends within 20 s, every rank
#           is gone, exit status the same as native
# Every run has a timeout; ranks left behind are killed by the pids they wrote.
flavor=$1
. "$(dirname "$0")/appenv.sh" || exit $?
bin=$REVIVE_BUILDDIR/tests/mpi/apps/launchprog-$flavor
[ -x "$bin" ] || { echo "SKIP: $bin not built"; exit 77; }
fail=0
n=2
for mode in output abort exit; do
    run_native "$n" "$bin" "$mode" >"$tmp/n.out" 2>"$tmp/n.err"; rn=$?
    rm -f "$tmp/report"
    REVIVE_MPI_REPORT=$tmp/report run_revive "$n" "$bin" "$mode" >"$tmp/r.out" 2>"$tmp/r.err"; rr=$?
    if [ $rn = 124 ] || [ $rn = 137 ] || [ $rr = 124 ] || [ $rr = 137 ]; then
        echo "FAIL $mode: timed out (native $rn, revive $rr)"; fail=1
    elif [ $rn != $rr ]; then
        echo "FAIL $mode: exit status native $rn, revive $rr"; sed 's/^/  revive: /' "$tmp/r.err" | head -8; fail=1
    elif grep -q "not stopped" "$tmp/r.out"; then
        echo "FAIL $mode: the job went on: $(grep -m1 'not stopped' "$tmp/r.out")"; fail=1
    elif [ $mode = output ]; then
        sort "$tmp/n.out" >"$tmp/n.s"; sort "$tmp/r.out" >"$tmp/r.s"
        sort "$tmp/n.err" >"$tmp/n.e"; sort "$tmp/r.err" >"$tmp/r.e"
        if ! cmp -s "$tmp/n.s" "$tmp/r.s" || ! cmp -s "$tmp/n.e" "$tmp/r.e" || [ "$(wc -l <"$tmp/n.s")" != $n ]; then
            echo "FAIL output: stdout/stderr differ"; diff "$tmp/n.s" "$tmp/r.s"; diff "$tmp/n.e" "$tmp/r.e"; fail=1
        elif on_lower "$n"; then
            echo "ok output: $n stdout and $n stderr lines identical, status 0, $n ranks on the lower half"
        else fail=1; fi
    else
        echo "ok $mode: exit status $rr as natively${rr:+ }($(grep -m1 -iE 'MPI_ABORT|exit' "$tmp/r.err" | cut -c1-70))"
    fi
done

# Signals: start the job in the background, wait until every rank is in its loop, signal the
# launcher (the wrapper execs it, so $! is the launcher), and see what happens.
dfl='import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); os.execvp(sys.argv[1], sys.argv[1:])'
signal_run() { # signal_run native|revive SIG -> sets rc, secs, left
    d=$tmp/sig-$1-$2; mkdir -p "$d"
    # sh starts a background job with SIGINT ignored; dfl gives the launcher the default back
    if [ $1 = native ]; then
        python3 -c "$dfl" "$launcher" -n $n "$bin" wait "$d" >"$d/out" 2>&1 &
    else
        PATH=$(dirname "$launcher"):$PATH python3 -c "$dfl" "$wrapper" -am ft-enable-cr -n $n "$bin" wait "$d" >"$d/out" 2>&1 &
    fi
    pid=$!
    i=0; while [ ! -e "$d/ready" ] && [ $i -lt 150 ]; do sleep 0.1; i=$((i + 1)); done
    [ -e "$d/ready" ] || { echo "FAIL SIG$2: $1: the ranks never got ready"; fail=1; }
    sleep 0.3
    kill -s "$2" $pid
    start=$(date +%s)
    ( sleep 20; kill -KILL $pid 2>/dev/null ) & dog=$!
    wait $pid; rc=$?
    kill $dog 2>/dev/null; wait $dog 2>/dev/null
    secs=$(( $(date +%s) - start ))
    i=0 # the ranks may take a moment to go after the launcher returns
    while [ $i -lt 50 ]; do
        alive=0
        for f in "$d"/pid.*; do [ -e "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null && alive=1; done
        [ $alive = 0 ] && break
        sleep 0.1; i=$((i + 1))
    done
    left=""
    for f in "$d"/pid.*; do
        [ -e "$f" ] || continue
        p=$(cat "$f")
        if kill -0 "$p" 2>/dev/null; then left="$left $p"; kill -KILL "$p" 2>/dev/null; fi
    done
}
# Hydra (MPICH) itself ends a signalled job with status 0 or with the signal's number, by
# timing: measured natively both ways between runs. Either counts as the same class.
same_class() {
    case $3 in INT) num=2 ;; TERM) num=15 ;; *) num=x ;; esac
    case "$1:$2" in 0:$num|$num:0|0:0|$num:$num) return 0 ;; esac
    return 1
}
for sig in INT TERM; do
    signal_run native $sig; nrc=$rc nsecs=$secs nleft=$left
    signal_run revive $sig; rrc=$rc rsecs=$secs rleft=$left
    if [ -n "$nleft" ] || [ -n "$rleft" ]; then
        echo "FAIL SIG$sig: ranks left running (native:${nleft:- none}, revive:${rleft:- none})"; fail=1
    elif [ $nsecs -ge 20 ] || [ $rsecs -ge 20 ]; then
        echo "FAIL SIG$sig: the job did not end within 20 s (native ${nsecs}s, revive ${rsecs}s)"; fail=1
    elif [ $nrc != $rrc ] && ! { [ "$flavor" = mpich ] && same_class $nrc $rrc $sig; }; then
        echo "FAIL SIG$sig: exit status native $nrc, revive $rrc"; tail -5 "$tmp/sig-revive-$sig/out" | sed 's/^/  revive: /'; fail=1
    elif grep -q "not stopped" "$tmp/sig-revive-$sig/out"; then
        echo "FAIL SIG$sig: a rank was not stopped"; fail=1
    else
        echo "ok SIG$sig: job ended in ${rsecs}s (native ${nsecs}s), exit status $rrc as natively, no rank left 5 s after"
    fi
done
exit $fail
