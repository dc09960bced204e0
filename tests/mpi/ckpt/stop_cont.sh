#!/bin/bash
# stop_cont.sh FLAVOR: "ckpt-mpirun --stop" returns only once every rank is stopped, and a
# SIGCONT to the launcher resumes every rank whatever the timing (issue 7 review, finding N:
# "ckpt-mpirun --wait --stop --json <real mpiexec pid>" then "kill -CONT <that pid>" left rank 1
# stopped for ever, 2 of 2). A paced job (rst_prog, 4 ranks) under "mpirun -am ft-enable-cr" is
# stopped and continued STOP_CONT_ROUNDS times (default 3) each way:
#   - launcher: --stop given the real launcher's pid (mpirun.openmpi / Hydra's mpiexec), then
#     SIGCONT to that pid at once;
#   - wrapper: --stop given Revive's mpirun (the coordinator), then SIGCONT to it at once.
# Each round checks: ckpt-mpirun exits 0 with a JSON summary and the reference; when it returns,
# every rank and the launcher are in state T (/proc); within 20 s of the SIGCONT none is
# stopped and the job prints new steps. At the end the job runs to its end: status 0, every
# result line as an uninterrupted run's.
flavor=$1
export REVIVE_MPI_TIMEOUT=${REVIVE_MPI_TIMEOUT:-240}
. "$(dirname "$0")/../mpienv.sh" || exit $?
. "$(dirname "$0")/ckptenv.sh" || exit $?
# paced 60 s at least (the six rounds took 43 steps of 300 ms, 145 of 100 ms, at load 15-18):
# 200 steps of 300 ms, not 600 of 100, the same time for the rounds and a third of the steps the
# job then runs at full speed and the native run runs (MPICH's native ranks spin)
np=4 steps=200 ms=300 rounds=${STOP_CONT_ROUNDS:-3}
ck_workdir stop
# ranks JOB: the job's rank processes (the test program under Revive's launcher)
ranks() { local p; for p in $(descendants $1); do [ "$(cat /proc/$p/comm 2>/dev/null)" = "rst_prog-$flavor" ] && echo $p; done; }
state() { sed 's/.*) \(.\).*/\1/' /proc/$1/stat 2>/dev/null; }
# not_stopped PIDS: those whose state is not T
not_stopped() { local p; for p in "$@"; do [ "$(state $p)" = T ] || echo -n "$p($(state $p)) "; done; }
stopped_ones() { local p; for p in "$@"; do [ "$(state $p)" = T ] && echo -n "$p "; done; }
touch pace
clean timeout -k 5 900 "$wrapper" -am ft-enable-cr --ckpt-dir "$d" -n $np "$prog" $steps --pace "$d/pace" $ms \
    >out.0 2>err.0 &
job=$!; pids+=($job)
if ! wait_steps out.0 2 $job || ! c=$(coord $job); then
    failed "the job printed no step"; tail -n 3 err.0; exit 1
fi
launcher_pid=$(launcher_of $c)
for i in $(seq 300); do [ "$(ranks $c | wc -l)" = $np ] && break; sleep 0.1; done
rk=($(ranks $c))
[ ${#rk[@]} = $np ] || { failed "$np ranks expected under the job, found ${#rk[@]}"; exit 1; }
for round in $(seq $rounds); do
    for how in launcher wrapper; do
        target=$c
        [ $how = launcher ] && target=$launcher_pid
        timeout -k 5 300 "$CKPT" --wait --stop --json $target >ckpt.out 2>ckpt.err; crc=$?
        notyet=$(not_stopped "${rk[@]}" $launcher_pid)
        kill -CONT $target
        n0=$(nsteps out.0)
        bad=
        [ $crc = 0 ] || bad="$bad; ckpt-mpirun --stop: status $crc ($(tail -n1 ckpt.err))"
        grep -q '^{"status":"committed"' ckpt.out || bad="$bad; no JSON summary"
        [ -d "$(tail -n1 ckpt.out)" ] || bad="$bad; no reference"
        [ -z "$notyet" ] || bad="$bad; not stopped when --stop returned: $notyet"
        left=
        for i in $(seq 200); do
            left=$(stopped_ones "${rk[@]}" $launcher_pid)
            [ -z "$left" ] && [ "$(nsteps out.0)" -gt "$n0" ] && break
            sleep 0.1
        done
        [ -z "$left" ] || bad="$bad; still stopped 20 s after the SIGCONT: $left"
        [ "$(nsteps out.0)" -gt "$n0" ] || bad="$bad; no step printed after the SIGCONT"
        if [ -n "$bad" ]; then
            failed "$flavor round $round, SIGCONT to the $how ($target)${bad}"
            sed 's/^/  /' ckpt.err | tail -n 4
            kill -CONT "${rk[@]}" $launcher_pid $c 2>/dev/null
        else
            pass "$flavor round $round: --stop of the $how returned with $np ranks and the launcher stopped;" \
                "SIGCONT to the $how at once: all running, $(( $(nsteps out.0) - n0 )) steps since"
        fi
    done
done
# the rest at full speed
kill -CONT "${rk[@]}" $launcher_pid $c 2>/dev/null
echo "the rounds took $(nsteps out.0) of $steps paced steps"
rm -f pace
wait $job; st=$?
run_native $np "$prog" $steps --sleep-ms 0 >native.out 2>native.err
if [ $st != 0 ]; then
    failed "the job's status $st"; tail -n 5 err.0
elif cmp -s <(results native.out) <(results out.0); then
    pass "$flavor: the job ended (status 0) with every result as uninterrupted ($(results out.0 | wc -l) lines)"
else
    failed "$flavor: the job's results differ from an uninterrupted run's"; diff <(results native.out) <(results out.0) | head -n 6
fi
exit $fail
