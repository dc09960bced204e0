#!/bin/bash
# rst_intr.sh FLAVOR: restart-mpi interrupted at a random moment (newuser7 H1, M3, M4, M5). A
# paced job (rst_prog, 2 ranks) is checkpointed with --term; then trials of restart-mpi of its
# snapshot directory, each ended by a terminal's ^C (SIGINT to restart-mpi's process group) or a
# batch system's cancel (SIGTERM to restart-mpi alone, or to its group), sent at a random moment
# from 0 to 2.5 s after the start (the image checks, the launch, the restore, the fresh MPI's
# start, the job's first steps) and in the last trial once the restarted job printed a step.
# Each trial must: end within 30 s (no hang; before: MPICH hung for ever now and then, the ranks
# in their fresh MPI_Init); exit 128+N (a ^C in the first 0.3 s used to be lost: the job ran to
# its end, status 0), or the job's own status when it had ended already; leave no process of the
# trial (found by its session, by a marker in its environment, by the work folder in its command
# line); and leave the sequence unmarked in the snapshot's index and in the node-local cache
# (before: an interrupted restart was recorded as a failed restart of the sequence, so the next
# `restart-mpi DIR` silently took an older one). Then `restart-mpi DIR` (no --seq) must take the
# same sequence and end with the uninterrupted run's results. Counts are printed.
# The last restart is nohup'd and sent a SIGHUP: it must run to its end.
# REVIVE_INTR_TRIALS: the number of trials (default 6); REVIVE_INTR_SEED: the random seed.
flavor=$1
export REVIVE_MPI_TIMEOUT=${REVIVE_MPI_TIMEOUT:-240}
. "$(dirname "$0")/../mpienv.sh" || exit $?
. "$(dirname "$0")/ckptenv.sh" || exit $?
np=2 steps=40 ms=150
trials=${REVIVE_INTR_TRIALS:-6}
RANDOM=${REVIVE_INTR_SEED:-$$}
echo "seed ${REVIVE_INTR_SEED:-$$}, $trials trials"
ck_workdir intr
run_native $np "$prog" $steps --pace "$d/nopace" $ms >native.out 2>native.err ||
    { failed "the native run: status $?"; tail -n 3 native.err; exit 1; }
touch pace
clean timeout -k 5 600 "$wrapper" -am ft-enable-cr --ckpt-dir "$d" -n $np "$prog" $steps --pace "$d/pace" $ms \
    >out.0 2>err.0 &
job=$!; pids+=($job)
if ! wait_steps out.0 2 $job; then
    rm -f pace; wait $job; failed "the job printed no step (status $?)"; show_err err.0; exit 1
fi
if ! ref=$(checkpoint $job snap --term); then
    rm -f pace; wait $job; failed "ckpt-mpirun --term: $(tail -n 2 ckpt.snap.err)"; exit 1
fi
wait $job
# the pace file stays: each restarted job is slow and holds before its last step until the end
jobdir=${ref%/*} seq=${ref##*/}
lcache=$TMPDIR/revive-local-$EUID
cp -p "$jobdir/index" index.saved
# the sequence's failed-restart mark, in the index or in the node-local cache
marked() {
    grep -qs "^seq\.$seq\.failed_restarts [1-9]" "$jobdir/index" && { echo "index: $(grep -h "^seq\.$seq\.failed_r" "$jobdir/index" | tr '\n' ' ')"; return 0; }
    local m
    m=$(grep -ls '^failed_restarts [1-9]' "$lcache"/*/"$seq"/restart.failed | head -n1)
    [ -n "$m" ] && { echo "node-local cache: $m: $(grep -h '^failed_reason' "$m")"; return 0; }
    return 1
}
# unmarked: why="...; the sequence is marked failed" when it is, and the marks undone (they would
# make the later trials restart an older sequence: the index as it was)
unmarked() {
    local m
    m=$(marked) || return 0
    why="${why:+$why; }the sequence is marked failed ($m)"
    cp -p index.saved "$jobdir/index"
    find "$lcache" -name restart.failed -delete 2>/dev/null
}
# restart-mpi in a session of its own (a terminal's ^C reaches its process group), SIGINT at its
# default (a background job of a script starts with it ignored), a marker in its environment
# (only descriptors 0-2 open, as clean() gives; started by exec, so that $! is restart-mpi's pid)
dfl='import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); os.setsid(); os.closerange(3, 65536); os.execvp(sys.argv[1], sys.argv[1:])'
bound=$(load_scaled 30)
ok=0 bad=0 hung=0
for t in $(seq "$trials"); do
    case $((RANDOM % 3)) in
    0) sig=INT to=group ;;
    1) sig=TERM to=group ;;
    *) sig=TERM to=alone ;;
    esac
    last=$([ "$t" = "$trials" ] && echo 1)
    ms_at=$((RANDOM % 2500))
    [ -n "$last" ] && ms_at=steps
    (exec env REVIVE_INTR_MARK=$t python3 -c "$dfl" "$RESTART" "$jobdir" >t$t.out 2>t$t.err) &
    r=$!
    # the moments count from restart-mpi's start, not python's (slow to start under load)
    wait_for_job 60 $r '[ "$(cat /proc/$r/comm 2>/dev/null)" = restart-mpi ] || [ "$(cat /proc/$r/comm 2>/dev/null)" = revive-coord ]'
    if [ -n "$last" ]; then
        wait_for_job 120 $r '[ "$(nsteps t$t.out)" -ge 1 ]'
    else
        sleep "$(printf '%d.%03d' $((ms_at / 1000)) $((ms_at % 1000)))"
    fi
    at="$(nsteps t$t.out) steps printed"
    ended=$(grep -c '^done: ' t$t.out)
    if [ $to = group ]; then kill -$sig -- -$r; else kill -$sig $r; fi
    why=
    if ! trial_end $r "$bound"; then
        why="still running $bound s after the signal"; hung=$((hung + 1))
        show_procs $r
        kill -KILL -- -$r 2>/dev/null
    fi
    wait $r; st=$?
    want=$((128 + $(kill -l $sig)))
    if [ -z "$why" ] && [ $st != $want ]; then
        # a job that had ended before the signal: its own status (0); else the signal was lost
        if [ $st = 0 ] && [ "$ended" != 0 ]; then :; else why="status $st, not $want"; fi
    fi
    left=$(trial_left $r REVIVE_INTR_MARK=$t)
    [ -n "$left" ] && why="${why:+$why; }$left"
    unmarked
    if [ $to = group ]; then whom="restart-mpi's process group"; else whom="restart-mpi alone"; fi
    what="trial $t: SIG$sig to $whom at $ms_at ms ($at)"
    if [ -z "$why" ]; then
        ok=$((ok + 1)); pass "$what: status $st, nothing left"
    else
        bad=$((bad + 1)); failed "$what: $why"; show_err t$t.err
    fi
done
echo "trials: $trials, passed $ok, failed $bad (hung $hung)"
# Ranks that a ^C does not reach (newuser7 H1: restored ranks waited for ever in their fresh
# MPI_Init on a launcher that, having taken the ^C, waited for them): every rank held in its
# restore with every signal blocked (fault point mpi-restore-hold, armed through restart-mpi's
# environment), then a ^C to restart-mpi's group. The coordinator ends it: REVIVE_TERM_GRACE
# (2 s here) after the signal SIGTERM to the launcher, as long again later SIGKILL, and what the
# launcher leaves is killed. Status 130, within the bound, nothing left, not marked. (MPICH's
# mpiexec waits for the held ranks: the escalation must be said; Open MPI's mpirun kills them.)
hold_opts=()
[ "$flavor" = ompi ] && hold_opts=(-- -x REVIVE_FAULT)
(exec env REVIVE_INTR_MARK=hold REVIVE_FAULT=mpi-restore-hold REVIVE_TERM_GRACE=2 python3 -c "$dfl" \
    "$RESTART" "${hold_opts[@]}" "$jobdir" >hold.out 2>hold.err) &
r=$!
if ! wait_for_job 120 $r '[ "$(grep -c "holds in its restore" hold.err)" -ge $np ]'; then
    failed "the held restart: not every rank said it holds in its restore"; show_err hold.err
    kill -KILL -- -$r 2>/dev/null
else
    kill -INT -- -$r
    why=
    if ! trial_end $r "$bound"; then
        why="still running $bound s after the ^C"; show_procs $r; kill -KILL -- -$r 2>/dev/null
    fi
    wait $r; st=$?
    [ -z "$why" ] && [ $st != 130 ] && why="status $st, not 130"
    left=$(trial_left $r REVIVE_INTR_MARK=hold)
    [ -n "$left" ] && why="${why:+$why; }$left"
    unmarked
    if [ "$flavor" = mpich ] && ! grep -q "did not end within .* SIGTERM to the launcher" hold.err; then
        why="${why:+$why; }no SIGTERM to the launcher said"
    fi
    if [ -z "$why" ]; then
        pass "ranks held in their restore, every signal blocked, ^C: status $st, nothing left$(grep -q 'SIGKILL to the launcher' hold.err && echo ', after SIGTERM and SIGKILL to the launcher')"
    else
        failed "ranks held in their restore, every signal blocked, ^C: $why"; show_err hold.err
    fi
fi
rm -f pace
# the default restart takes the same (newest) sequence and runs to the uninterrupted end, though
# started as `nohup restart-mpi` (SIGHUP ignored) and sent a SIGHUP (a logout) while it restores:
# before, the coordinator read the ignored SIGHUP it held blocked and ended the job 10 s later
# (diffrev27 S-H1)
nohup_py='import os, signal, sys; signal.signal(signal.SIGHUP, signal.SIG_IGN); os.setsid(); os.closerange(3, 65536); os.execvp(sys.argv[1], sys.argv[1:])'
(exec python3 -c "$nohup_py" "$RESTART" "$jobdir" >out.1 2>err.1) &
r=$!
# once the coordinator took over (restart-mpi itself leaves an ignored SIGHUP unblocked: the
# kernel drops it), while the ranks are restored
wait_for_job 60 $r '[ "$(cat /proc/$r/comm 2>/dev/null)" = revive-coord ]'
ms_at=$((RANDOM % 300))
sleep "$(printf '0.%03d' $ms_at)"
kill -HUP $r 2>/dev/null
echo "SIGHUP to the nohup'd restart-mpi $ms_at ms after its coordinator took over"
wait $r; rc=$?
[ $rc = 0 ] || { failed "the nohup'd restart sent SIGHUP ended with status $rc"; show_err err.1; }
if grep -q "skip\|takes an earlier\|failed a restart" err.1; then
    failed "the default restart of $jobdir did not take sequence $seq:"; show_err err.1
fi
results out.0 out.1 >both.out
restart_verdict "restart-mpi $jobdir after the interrupted ones"
exit $fail
