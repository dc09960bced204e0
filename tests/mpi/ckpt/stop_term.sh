#!/bin/bash
# stop_term.sh FLAVOR [KILL]: a job stopped by "ckpt-mpirun --stop" ends when its mpirun gets
# SIGTERM, as a running job does, and its snapshot restarts (review10: the stopped launcher held
# the SIGTERM the coordinator passed on pending for ever; the launcher and every rank stayed in
# state T and the coordinator waited, 2 of 2 on each MPI). A paced job (rst_prog, 2 ranks) under
# "mpirun -am ft-enable-cr" is stopped with --stop, then SIGTERM goes to Revive's mpirun (the
# coordinator). Checks: within 30 s no process of the job is left (stopped or not) and the job's
# status is not 0; the snapshot passes ckpt-info --verify; restart-mpi of it runs to the end with
# status 0 and the uninterrupted run's results from where it starts.
# With KILL (stop_kill-*.sh) the coordinator gets SIGKILL instead, from this script (no job
# control to continue the job): the launcher's PDEATHSIG SIGTERM stayed pending in the stopped
# launcher, which stayed in state T under init with every rank for ever (review10 F2, ~10 times
# on both MPIs). Now the coordinator's witness continues them, and says so; the same checks hold.
flavor=$1 sig=${2:-TERM}
export REVIVE_MPI_TIMEOUT=${REVIVE_MPI_TIMEOUT:-240}
. "$(dirname "$0")/../mpienv.sh" || exit $?
. "$(dirname "$0")/ckptenv.sh" || exit $?
np=2 steps=200 ms=100
ck_workdir stop$sig
touch pace
# timeout --foreground with KILL: the job stays in this script's process group, as in a script
# without job control. timeout's own group (its default) becomes orphaned when timeout ends after
# its child: the kernel then sends SIGHUP and SIGCONT to the group's stopped processes, which
# ended the job with or without Revive's help (the old code passed under it).
fg=
[ $sig = KILL ] && fg=--foreground
clean timeout $fg -k 5 600 "$wrapper" -am ft-enable-cr --ckpt-dir "$d" -n $np "$prog" $steps --pace "$d/pace" $ms \
    >out.0 2>err.0 &
job=$!; pids+=($job)
if ! wait_steps out.0 2 $job || ! c=$(coord $job); then
    failed "the job printed no step"; tail -n 3 err.0; exit 1
fi
ref=$(checkpoint $job stop --stop) || { failed "ckpt-mpirun --stop: $(tail -n1 ckpt.stop.err)"; exit 1; }
procs=$(descendants $c | tr '\n' ' ')
kill -$sig $c
if all_ended "$flavor: 30 s after SIG$sig to the stopped job's mpirun ($c)" $procs; then
    pass "$flavor: SIG$sig to the stopped job's mpirun: every process of the job ended ($(echo $procs | wc -w) processes)"
fi
wait $job; st=$?
[ $st != 0 ] && pass "$flavor: the job's status $st" || failed "$flavor: the job's status is 0 after SIG$sig"
if [ $sig = KILL ]; then
    grep -q 'ended while the job was stopped' err.0 && pass "$flavor: the witness said it continued the job" ||
        failed "$flavor: no line saying the stopped job was continued after its coordinator's end"
fi
rm -f pace
if ! "$INFO" --verify "$ref" >info.out 2>info.err; then
    failed "$flavor: ckpt-info --verify of the --stop snapshot: $(tail -n1 info.err)"
    exit 1
fi
clean timeout -k 5 600 "$RESTART" "$ref" >out.1 2>err.1; rc=$?
run_native $np "$prog" $steps --sleep-ms 0 >native.out 2>native.err
tail_verdict "$flavor: restart-mpi of the --stop snapshot"
exit $fail
