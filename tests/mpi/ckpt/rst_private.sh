#!/bin/bash
# rst_private.sh FLAVOR: every file and folder a restart writes into the snapshot directory is
# private to the user (files 0600, folders 0700) whatever the job's umask, as the brief asks of
# every file Revive writes (review10 F5: the ranks' "restored" report in .restart.PID was made
# with fopen under the application's umask: 0644 with umask 022). A paced job (rst_prog, 2
# ranks, umask 022) is ended with "ckpt-mpirun --term" and restarted with restart-mpi while the
# pace file holds it before its last step; once both ranks reported their restore, every entry
# of the job's snapshot directory is checked; then the job runs to its end with the uninterrupted
# run's results.
flavor=$1
export REVIVE_MPI_TIMEOUT=${REVIVE_MPI_TIMEOUT:-240}
. "$(dirname "$0")/../mpienv.sh" || exit $?
. "$(dirname "$0")/ckptenv.sh" || exit $?
np=2 steps=60 ms=100
umask 022
ck_workdir rstprivate
touch pace
clean timeout -k 5 600 "$wrapper" -am ft-enable-cr --ckpt-dir "$d" -n $np "$prog" $steps --pace "$d/pace" $ms \
    >out.0 2>err.0 &
job=$!; pids+=($job)
if ! wait_steps out.0 2 $job; then
    failed "the job printed no step"; tail -n 3 err.0; exit 1
fi
ref=$(checkpoint $job term --term) || { failed "ckpt-mpirun --term: $(tail -n1 ckpt.term.err)"; exit 1; }
wait $job
jd=$(dirname "$ref")
clean timeout -k 5 600 "$RESTART" "$ref" >out.1 2>err.1 &
rp=$!; pids+=($rp)
if wait_for_job 120 $rp '[ "$(cat "$jd"/.restart.*/restored 2>/dev/null | wc -l)" = $np ]'; then
    bad=$(find "$jd" -mindepth 1 \( -type f ! -perm 600 -o -type d ! -perm 700 \) -printf '%m %P\n')
    if [ -n "$bad" ]; then
        failed "$flavor: not private in the snapshot directory during the restart:"$'\n'"$bad"
    else
        pass "$flavor: during the restart every entry of the snapshot directory is 0600/0700" \
            "($(find "$jd" -mindepth 1 | wc -l) entries, the restart's report among them)"
    fi
else
    failed "$flavor: the ranks' restore was not reported within 120 s"; show_err err.1
fi
rm -f pace
wait $rp; rc=$?
run_native $np "$prog" $steps --sleep-ms 0 >native.out 2>native.err
tail_verdict "$flavor: restart-mpi of the --term snapshot"
exit $fail
