#!/bin/bash
# launch_intr.sh FLAVOR: "mpirun -am ft-enable-cr" ended by a terminal's ^C (SIGINT to its process
# group) at a random moment of its start (newuser7b M3). The job is started as a script starts a
# background job: in a session of its own, SIGINT and SIGQUIT ignored (bash does that for
# an asynchronous command). mpirun and mpiexec act on SIGINT all the same, and so must Revive:
# before, a ^C in the first ~0.1-0.35 s (while Revive's wrapper script ran, before the
# coordinator took its signals, or before the real launcher set its handlers) was dropped and
# the job ran to its end, status 0 (here 13 of 26 trials at 0.02-0.24 s with Open MPI). Each
# trial sends the ^C 0-500 ms after the wrapper took SIGINT at its default (a paced job of 40 steps of 150 ms: it
# cannot end first) and must: end within 30 s (load-scaled), with status 130 (128 + SIGINT), and
# leave no process of the trial. Counts are printed. REVIVE_LINTR_TRIALS: the number of trials
# (default 10); REVIVE_LINTR_SEED: the random seed. Part 2: a ^C while the wrapper script waits for
# a command that does not die of it (2 trials).
flavor=$1
export REVIVE_MPI_TIMEOUT=${REVIVE_MPI_TIMEOUT:-240}
. "$(dirname "$0")/../mpienv.sh" || exit $?
. "$(dirname "$0")/ckptenv.sh" || exit $?
np=2 steps=40 ms=150
trials=${REVIVE_LINTR_TRIALS:-10}
RANDOM=${REVIVE_LINTR_SEED:-$$}
echo "seed ${REVIVE_LINTR_SEED:-$$}, $trials trials"
ck_workdir lintr
touch pace
# Revive's mpirun in a session of its own, SIGINT and SIGQUIT ignored as a script's background
# job has them, a marker in its environment, only descriptors 0-2 open; started by exec, so
# that $! is the wrapper's pid (and its process group's)
ign='import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_IGN); signal.signal(signal.SIGQUIT, signal.SIG_IGN); os.setsid(); os.closerange(3, 65536); os.execvp(sys.argv[1], sys.argv[1:])'
# int_ignored PID: PID (not python's, not env's) has SIGINT ignored
int_ignored() {
    local c ign
    c=$(cat /proc/$1/comm 2>/dev/null) || return 1
    [ "$c" = python3 ] || [ "$c" = env ] && return 0
    ign=$(awk '/^SigIgn:/ {print $2}' /proc/$1/status 2>/dev/null) || return 1
    [ -n "$ign" ] && (( (16#$ign & 2) != 0 ))
}
bound=$(load_scaled 30)
ok=0 bad=0 hung=0
for t in $(seq "$trials"); do
    ms_at=$((RANDOM % 500))
    (exec env REVIVE_LINTR_MARK=$t PATH="$(dirname "$launcher"):$PATH" python3 -c "$ign" \
        "$wrapper" -am ft-enable-cr -n $np "$prog" $steps --pace "$d/pace" $ms >t$t.out 2>t$t.err) &
    r=$!
    # the moment counts from when the wrapper has SIGINT at its default (it runs itself again so;
    # the old code never did: from its coordinator's start), not from python's start (slow under
    # load): the first moments of the wrapper script, before that, cannot take an ignored SIGINT
    # (bash cannot reset it), a window of a few ms that stays (revive-mpirun(1))
    wait_for_job 60 $r '[ "$(cat /proc/$r/comm 2>/dev/null)" = revive-coord ] || ! int_ignored $r'
    sleep "$(printf '0.%03d' $ms_at)"
    at="$(nsteps t$t.out) steps printed"
    kill -INT -- -$r
    why=
    if ! trial_end $r "$bound"; then
        why="still running $bound s after the ^C (the ^C was lost: $(nsteps t$t.out) steps printed by then)"
        hung=$((hung + 1))
        kill -KILL -- -$r 2>/dev/null
    fi
    wait $r; st=$?
    [ -z "$why" ] && [ $st != 130 ] && why="status $st, not 130"
    left=$(trial_left $r REVIVE_LINTR_MARK=$t)
    [ -n "$left" ] && why="${why:+$why; }$left"
    what="trial $t: ^C to the job's process group at $ms_at ms ($at)"
    if [ -z "$why" ]; then
        ok=$((ok + 1)); pass "$what: status $st, nothing left"
    else
        bad=$((bad + 1)); failed "$what: $why"; show_err t$t.err
    fi
done
echo "trials: $trials, passed $ok, failed $bad (not ended: $hung)"

# Part 2: a ^C that comes while the wrapper waits for one of its commands that does not die of it.
# bash takes a command that exits normally after a SIGINT as having handled it and goes on: the
# wrapper then launched the job, which ran to its end, status 0 (trial 10 of the CI of 92e816ec,
# a ^C at 112 ms: the instant between a command's end and bash's reaping it). Made certain here:
# revive-exec's --detect, run by the wrapper in $(...), gives its answer, closes its output
# (the wrapper is then waiting for it), ignores SIGINT and ends normally 1 s later. The ^C goes
# to the group in that second; the job must end by it, status 130, nothing left.
real_exec=$REVIVE_EXEC
cat >slow_detect <<EOF2
#!/bin/bash
[ "\$1" = --detect ] || exec "$real_exec" "\$@"
trap '' INT
"$real_exec" "\$@"; st=\$?
exec >&-
: >"$d/detected"; sleep 1
exit \$st
EOF2
chmod 700 slow_detect
ok2=0 bad2=0
for t in 1 2; do
    rm -f detected
    (exec env REVIVE_EXEC="$d/slow_detect" REVIVE_LINTR_MARK=w$t PATH="$(dirname "$launcher"):$PATH" \
        python3 -c "$ign" "$wrapper" -am ft-enable-cr -n $np "$prog" $steps --pace "$d/pace" $ms \
        >w$t.out 2>w$t.err) &
    r=$!
    wait_for_job 60 $r '[ -e detected ]'
    kill -INT -- -$r
    why=
    if ! trial_end $r "$bound"; then
        why="still running $bound s after the ^C"
        kill -KILL -- -$r 2>/dev/null
    fi
    wait $r; st=$?
    [ -z "$why" ] && [ $st != 130 ] && why="status $st, not 130 ($(nsteps w$t.out) steps printed: the ^C was dropped)"
    left=$(trial_left $r REVIVE_LINTR_MARK=w$t)
    [ -n "$left" ] && why="${why:+$why; }$left"
    what="part 2, trial $t: ^C while the wrapper waits for a command that outlives it"
    if [ -z "$why" ]; then
        ok2=$((ok2 + 1)); pass "$what: status $st, nothing left"
    else
        bad2=$((bad2 + 1)); failed "$what: $why"; show_err w$t.err
    fi
done
echo "part 2 trials: 2, passed $ok2, failed $bad2"
exit $fail
