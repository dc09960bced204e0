#!/bin/bash
# sig_status.sh FLAVOR: a running job ended by SIGTERM or SIGINT to Revive's mpirun, or to
# restart-mpi, never exits 0 (review11 #2: MPICH's mpiexec, signalled, exits 0 or the signal's
# number by timing, natively too: at step 2 of 60, 5 of 10 SIGTERMs and 3 of 10 SIGINTs gave 0,
# and a batch script took the job as done). A paced job (rst_prog, 2 ranks, 60 steps) under
# "mpirun -am ft-enable-cr" gets SIGTERM, SIGINT, ... to its coordinator once it printed two
# steps, six times; a snapshot taken in the first run is restarted twice with restart-mpi, which
# gets SIGTERM then SIGINT two steps on. Each must end within 30 s with a status that is not 0,
# leaving no process. (On the old code each MPICH run gave 0 about half the time.)
flavor=$1
export REVIVE_MPI_TIMEOUT=${REVIVE_MPI_TIMEOUT:-240}
. "$(dirname "$0")/../mpienv.sh" || exit $?
. "$(dirname "$0")/ckptenv.sh" || exit $?
np=2 steps=60 ms=100
ck_workdir sig
touch pace
# a background job of a script starts with SIGINT ignored: the job gets the default back
dfl='import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); os.execvp(sys.argv[1], sys.argv[1:])'
# one_run NAME SIG START_STEPS CMD...: CMD in the background; once its output holds START_STEPS
# step lines more than at the start, SIG to its coordinator (Revive's mpirun, or restart-mpi's
# coordinator it became); then the status and what is left
one_run() {
    local name=$1 sig=$2 k=$3 job c procs st
    shift 3
    clean timeout -k 5 300 python3 -c "$dfl" "$@" >"$name.out" 2>"$name.err" &
    job=$!; pids+=($job)
    if ! wait_steps "$name.out" "$k" $job || ! c=$(coord $job); then
        failed "$name: the job printed no step"; tail -n 3 "$name.err"; return 1
    fi
    [ "$name" = run1 ] && { ref=$(checkpoint $job snap) || failed "ckpt-mpirun: $(tail -n1 ckpt.snap.err)"; }
    procs=$(descendants $c | tr '\n' ' ')
    kill -$sig $c
    all_ended "$name: 30 s after SIG$sig to mpirun ($c)" $procs
    wait $job; st=$?
    if [ $st = 0 ]; then
        failed "$name: status 0 after SIG$sig at step $(nsteps "$name.out") of $steps"; tail -n 3 "$name.err" | sed 's/^/  /'
    else
        pass "$name: SIG$sig at step $(nsteps "$name.out") of $steps: status $st"
    fi
}
ref=
for run in 1:TERM 2:INT 3:TERM 4:INT 5:TERM 6:INT; do
    one_run run${run%:*} ${run#*:} 2 "$wrapper" -am ft-enable-cr --ckpt-dir "$d" -n $np "$prog" $steps --pace "$d/pace" $ms
done
if [ -n "$ref" ]; then
    for run in 1:TERM 2:INT; do
        one_run restart${run%:*} ${run#*:} 2 "$RESTART" "$ref"
    done
else
    failed "no snapshot to restart"
fi
exit $fail
