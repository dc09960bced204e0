#!/bin/bash
# sig_status.sh FLAVOR: a running job ended by SIGTERM or SIGINT to Revive's mpirun, or to
# restart-mpi, never exits 0 (review11 #2: MPICH's mpiexec, signalled, exits 0 or the signal's
# number by timing, natively too: at step 2 of 60, 5 of 10 SIGTERMs and 3 of 10 SIGINTs gave 0,
# and a batch script took the job as done). A paced job (rst_prog, 2 ranks, 300 steps) under
# "mpirun -am ft-enable-cr" gets SIGTERM, SIGINT, ... to its coordinator once it printed two
# steps, six times; a snapshot taken in the first run is restarted twice with restart-mpi, which
# gets SIGTERM then SIGINT two steps on. Each must end within 30 s with status 128 + the signal
# (143, 130: what a shell gives a program that signal ended, and Open MPI's mpirun), leaving no
# process. (On the old code each MPICH run gave 0 about half the time; before session 28, 15 or
# 2 the other half, Hydra's own status: its ranks' wait statuses OR'ed.) The restarted ranks
# ignore and catch the signals the snapshot's ranks did (the first job's program ignores SIGUSR2
# and handles SIGURG, RST_PROG_SIGNALS=1), and act so: SIGUSR2 leaves them running, SIGURG's
# handler says so.
flavor=$1
export REVIVE_MPI_TIMEOUT=${REVIVE_MPI_TIMEOUT:-240}
. "$(dirname "$0")/../mpienv.sh" || exit $?
. "$(dirname "$0")/ckptenv.sh" || exit $?
# many steps: every run is ended by a signal a few steps after its start (or its restart), and a
# restart from a snapshot taken late under load must not reach the end while the test looks at it
np=2 steps=300 ms=100
ck_workdir sig
touch pace
# a background job of a script starts with SIGINT ignored: the job gets the default back
dfl='import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); os.execvp(sys.argv[1], sys.argv[1:])'
# the ranks of the job whose snapshot is restarted ignore SIGUSR2 and handle SIGURG
# (RST_PROG_SIGNALS=1, rst_prog.c); the restarts' environment does not ask for it: a restored
# rank keeps its image's dispositions
ign='import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); os.environ["RST_PROG_SIGNALS"] = "1"; os.execvp(sys.argv[1], sys.argv[1:])'
xsig=()
[ "$flavor" = ompi ] && xsig=(-x RST_PROG_SIGNALS)
# rank_pids COORD: the ranks under the coordinator; rank_sigs COORD: each rank's ignored and
# caught signals (/proc/PID/status), one line per kind of rank
rank_pids() {
    local p
    for p in $(descendants $1); do
        case $(cat /proc/$p/comm 2>/dev/null) in rst_prog*) echo $p ;; esac
    done
}
rank_sigs() {
    local p
    for p in $(rank_pids $1); do
        grep -E '^Sig(Ign|Cgt):' /proc/$p/status 2>/dev/null | tr -s '\t\n' '  '; echo
    done | sort -u
}
# one_run NAME SIG START_STEPS CMD...: CMD in the background; once its output holds START_STEPS
# step lines more than at the start, SIG to its coordinator (Revive's mpirun, or restart-mpi's
# coordinator it became); then the status and what is left
one_run() {
    local name=$1 sig=$2 k=$3 job c procs st
    shift 3
    local py=$dfl
    [ "$name" = run1 ] && py=$ign
    clean timeout -k 5 300 python3 -c "$py" "$@" >"$name.out" 2>"$name.err" &
    job=$!; pids+=($job)
    if ! wait_steps "$name.out" "$k" $job || ! c=$(coord $job); then
        failed "$name: the job printed no step"; tail -n 3 "$name.err"; return 1
    fi
    # the ranks' dispositions: the snapshot's job's, and the restarted ranks' must be the same
    # (the fresh MPI's handlers where the old one's were, the program's own, SIGUSR2 ignored)
    local sigs
    sigs=$(rank_sigs $c)
    if [ "$name" = run1 ]; then
        sigs1=$sigs
        echo "$sigs1" | grep -q 'SigIgn: [0-9a-f]*[89a-f][0-9a-f][0-9a-f] ' ||
            failed "run1: SIGUSR2 is not ignored in its ranks ($sigs1)"
    elif [ "${name#restart}" != "$name" ]; then
        if [ -z "$sigs" ] || [ "$sigs" != "$sigs1" ]; then
            failed "$name: the restarted ranks' signal dispositions ($sigs) are not the snapshot's job's ($sigs1)"
        else
            pass "$name: the restarted ranks ignore and catch the signals the snapshot's ranks did: $sigs"
        fi
        # and act so: SIGUSR2 (whose default ends a process) ignored, SIGURG's handler runs
        local rk p
        rk=$(rank_pids $c)
        [ -n "$rk" ] || failed "$name: no restarted rank found under the coordinator $c"
        [ -n "$rk" ] && kill -USR2 $rk && kill -URG $rk
        wait_for_job 30 $job '[ "$(grep -c "SIGURG handled" "$name.err")" -ge $np ]' ||
            failed "$name: the program's SIGURG handler did not run in every restarted rank ($(grep -c "SIGURG handled" "$name.err") lines)"
        for p in $rk; do
            kill -0 $p 2>/dev/null || failed "$name: restarted rank $p ended after SIGUSR2, which its program ignores"
        done
    fi
    [ "$name" = run1 ] && { ref=$(checkpoint $job snap) || failed "ckpt-mpirun: $(tail -n1 ckpt.snap.err)"; }
    procs=$(descendants $c | tr '\n' ' ')
    kill -$sig $c
    all_ended "$name: 30 s after SIG$sig to mpirun ($c)" $procs
    wait $job; st=$?
    want=$((128 + $(kill -l $sig)))
    if [ $st != $want ]; then
        failed "$name: status $st after SIG$sig at step $(nsteps "$name.out") of $steps, not $want"; tail -n 3 "$name.err" | sed 's/^/  /'
    else
        pass "$name: SIG$sig at step $(nsteps "$name.out") of $steps: status $st"
    fi
    # Hydra's "Segmentation fault (signal 11)" after a ^C is its ranks' ends OR'ed (2 | 9): said
    if grep -q 'EXIT STRING: Segmentation fault (signal 11)' "$name.out" && ! grep -q 'no rank crashed' "$name.err"; then
        failed "$name: mpiexec said \"Segmentation fault (signal 11)\" after SIG$sig and nothing said it is SIGINT | SIGKILL"
    fi
}
ref= sigs1=
for run in 1:TERM 2:INT 3:TERM 4:INT 5:TERM 6:INT; do
    one_run run${run%:*} ${run#*:} 2 "$wrapper" -am ft-enable-cr --ckpt-dir "$d" -n $np "${xsig[@]}" "$prog" $steps --pace "$d/pace" $ms
done
if [ -n "$ref" ]; then
    for run in 1:TERM 2:INT; do
        one_run restart${run%:*} ${run#*:} 2 "$RESTART" "$ref"
    done
else
    failed "no snapshot to restart"
fi
exit $fail
