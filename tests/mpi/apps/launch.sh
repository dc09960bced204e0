#!/bin/sh
# launch.sh FLAVOR: the launcher behaves the same natively and under Revive ("mpirun -am
# ft-enable-cr"), with launchprog (launchprog.c):
#   output  the same stdout and stderr lines (compared sorted: ranks interleave), status 0
#   abort   MPI_Abort(MPI_COMM_WORLD, 7) on rank 1 ends the job, same exit status as native
#   exit    a rank exiting 3 after MPI_Finalize: same exit status as native
#   SIGINT, SIGTERM sent to the launcher while the ranks run: the job ends within 20 s, every rank
#           is gone, exit status 128 + the signal under Revive with either MPI, whatever the
#           native launcher's (never 0 or 1 there), and the native one in its class: 1 (Open
#           MPI) or 0, N, N|9 or 128+N (Hydra) (native_class below); so does SIGINT sent to the job's process
#           group (kill -INT -- -PGID, as a script or batch system does: the launcher got it
#           twice, once passed on by Revive's coordinator, and Hydra took the second for "abort
#           now": status 255 and its assertion's lines, review9 F3), and a terminal's ^C
#           (pty_intr.py); neither prints a line the native run does not
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
signal_run() { # signal_run native|revive SIG [pid|group|tty] -> sets rc, secs, left
    how=${3:-pid} who=$1 sig=$2
    d=$tmp/sig-$1-$2-$how; mkdir -p "$d"
    # sh starts a background job with SIGINT ignored; dfl gives the launcher the default back
    # (group: in a process group of its own, setsid; tty: pty_intr.py types ^C on a terminal)
    if [ $who = native ]; then
        set -- "$launcher" -n $n "$bin" wait "$d"
    else
        set -- env PATH=$(dirname "$launcher"):$PATH "$wrapper" -am ft-enable-cr -n $n "$bin" wait "$d"
    fi
    pre=
    [ $how = group ] && pre=setsid
    start=$(date +%s)
    if [ $how = tty ]; then
        python3 "$apps_src/pty_intr.py" "$d" "$d/out" "$@"; rc=$?
        [ $rc = 125 ] && { echo "FAIL SIG$sig ($how): $who: the ranks never got ready"; fail=1; }
        start=$(( $(date +%s) - $(cat "$d/secs" 2>/dev/null || echo 0) ))
    else
        $pre python3 -c "$dfl" "$@" >"$d/out" 2>&1 &
        pid=$!
        i=0; while [ ! -e "$d/ready" ] && [ $i -lt 150 ]; do sleep 0.1; i=$((i + 1)); done
        [ -e "$d/ready" ] || { echo "FAIL SIG$sig ($how): $who: the ranks never got ready"; fail=1; }
        sleep 0.3
        if [ $how = group ]; then kill -s "$sig" -- -$pid; else kill -s "$sig" $pid; fi
        start=$(date +%s)
        ( sleep 20; kill -KILL $pid 2>/dev/null ) & dog=$!
        wait $pid; rc=$?
        kill $dog 2>/dev/null; wait $dog 2>/dev/null
    fi
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
# A signal that ends the job before its ranks reach MPI_Finalize: under Revive the status is
# 128 + the signal with either MPI (coord_exit_status, revive-mpirun(1): a batch script must
# not take the job as done), never 0. Natively Hydra (MPICH) exits 0 or the signal's number by
# timing (measured both ways between runs), or its ranks' ends OR'ed; Open MPI's mpirun exits
# 1 (measured here, every signal and way of sending it). Those native statuses are the class
# 128 + the signal stands for. Revive's status must be 128 + the signal even when the native one
# happens to be that too (a Revive falling back to the launcher's 0 or 1 is the regression this
# catches, diffrev29 A-M1); native_class only checks that the native run ended as expected, so
# that a change in the native launcher is seen rather than compared against.
native_class() { # native_class FLAVOR NATIVE SIGNUM: the native status is one a signal gives
    case "$1:$2" in mpich:0|mpich:$3|mpich:$(($3 | 9))|mpich:$((128 + $3))|ompi:1) return 0 ;; esac
    return 1
}
# the lines of a launcher's trouble a run printed that the native run of the same kind did not
# (numbers aside: Hydra's lines name pids). Only those: whether Hydra's "BAD TERMINATION" banner
# comes after a SIGINT depends on timing, natively too. Hydra's second SIGINT gave "Ctrl-C
# caught... cleaning up processes" and its assertion (HYD_pmcd_pmip_control_cmd_cb ... assert
# (!closed) failed), Open MPI's mpirun's "abort is already in progress ... forcibly terminate".
new_lines() {
    for w in native revive; do tr -d '\r' <"$tmp/sig-$w-$1/out" | sed 's/[0-9][0-9]*/N/g' >"$tmp/sig-$w-$1/lines"; done
    grep -vxF -f "$tmp/sig-native-$1/lines" "$tmp/sig-revive-$1/lines" |
        grep -E 'HYD|assert|caught|[Ee]rror|already in progress|forcibly'
}
for run in "INT pid" "TERM pid" "INT group" "INT tty"; do
    set -- $run; sig=$1 how=$2 what="SIG$1${2#pid}"
    [ $how != pid ] && what="SIG$sig to the $([ $how = tty ] && echo "terminal (^C)" || echo "process group")"
    signal_run native $sig $how; nrc=$rc nsecs=$secs nleft=$left
    signal_run revive $sig $how; rrc=$rc rsecs=$secs rleft=$left
    extra=$(new_lines $sig-$how)
    case $sig in INT) num=2 ;; TERM) num=15 ;; esac
    if [ -n "$nleft" ] || [ -n "$rleft" ]; then
        echo "FAIL $what: ranks left running (native:${nleft:- none}, revive:${rleft:- none})"; fail=1
    elif [ $nsecs -ge 20 ] || [ $rsecs -ge 20 ]; then
        echo "FAIL $what: the job did not end within 20 s (native ${nsecs}s, revive ${rsecs}s)"; fail=1
    elif [ "$rrc" != $((128 + num)) ]; then
        echo "FAIL $what: exit status under Revive $rrc, not 128 + $num (native $nrc)"; tail -5 "$tmp/sig-revive-$sig-$how/out" | sed 's/^/  revive: /'; fail=1
    elif ! native_class "$flavor" "$nrc" $num; then
        echo "FAIL $what: the native launcher exited $nrc, not a status a signal gives it ($flavor: $([ "$flavor" = ompi ] && echo 1 || echo "0, $num, $((num | 9)) or $((128 + num))"))"; tail -5 "$tmp/sig-native-$sig-$how/out" | sed 's/^/  native: /'; fail=1
    elif grep -q "not stopped" "$tmp/sig-revive-$sig-$how/out"; then
        echo "FAIL $what: a rank was not stopped"; fail=1
    elif [ $how != pid ] && [ -n "$extra" ]; then
        echo "FAIL $what: lines the native run does not print:"; echo "$extra" | head -8 | sed 's/^/  revive: /'; fail=1
    else
        echo "ok $what: job ended in ${rsecs}s (native ${nsecs}s), exit status $rrc = 128 + $num (native $nrc), no rank left 5 s after"
    fi
done
exit $fail
