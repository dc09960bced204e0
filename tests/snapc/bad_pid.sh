#!/bin/bash
# ckpt-mpirun PID and cr_checkpoint PID given a wrong PID word it alike and exit alike (issue 7:
# they worded each case differently and exited 1 or 2 for the same mistake): one line on standard
# error naming the PID, what it is and what to do, nothing on standard output, no file written,
# the status their --help documents (2: no PID at all; 1: a PID that names nothing to checkpoint).
# Cases: a PID that is gone, a zombie, a process not under Revive / no launcher, PID 1, another
# user's process (as nobody, with setpriv), "12x", "-5" (with and without "--"), 0, too large;
# and the cross hints: a rank of a Revive MPI job to cr_checkpoint, a cr_run process to
# ckpt-mpirun.
. "$(dirname "$0")/lib.sh"
snapc_workdir snapc-bad_pid
CRCK=$B/tools/cr_checkpoint
CRRUN=$B/tools/cr_run

# both CMD_ARGS... WANT TEXT_MPIRUN TEXT_CRCK: each command refuses PID args with status WANT, one
# stderr line holding its TEXT (after "NAME: "), an empty stdout and no file left in $W/cwd.
one() {
    local want=$1 text=$2 name=$3
    shift 3
    rm -rf "$W/cwd"; mkdir "$W/cwd"
    (cd "$W/cwd" && "$@") >"$W/cmd.out" 2>"$W/cmd.err"
    local rc=$? lines
    lines=$(wc -l <"$W/cmd.err")
    [ "$rc" = "$want" ] || fail "$name $*: exit status $rc, expected $want"
    [ "$lines" = 1 ] || fail "$name $*: $lines lines on stderr, expected 1"
    grep -qF -- "$name: $text" "$W/cmd.err" || fail "$name $*: stderr lacks '$name: $text'"
    [ -s "$W/cmd.out" ] && fail "$name $*: it wrote on stdout: $(head -c 200 "$W/cmd.out")"
    [ -z "$(ls -A "$W/cwd")" ] || fail "$name $*: files left: $(ls -A "$W/cwd")"
    [ $fails = $passed_fails ] || sed 's/^/    /' "$W/cmd.err"
}
both() {
    local want=$1 tm=$2 tc=$3
    shift 3
    one "$want" "$tm" ckpt-mpirun "$CKPT" "$@"
    one "$want" "$tc" cr_checkpoint "$CRCK" "$@"
}

# what is no PID at all: usage, 2, the same words
for a in 12x 0 99999999 ""; do
    t="'$a' is not a process id: give a PID, a whole number from 1 to 4194304"
    both 2 "$t" "$t" "$a"
done
t="'-5' is not a process id: give a PID, a whole number from 1 to 4194304"
both 2 "$t" "$t" -5
both 2 "$t" "$t" -- -5
pass "'12x', 0, 99999999, '', -5 (with and without --): status 2, one line"

# a PID that is gone
sleep 0 & dead=$!; wait $dead
if [ -e /proc/$dead ]; then echo "note: PID $dead was reused at once; not tested"; else
    both 1 "there is no process $dead (it has ended, or the number is wrong): give the PID of the job's mpirun" \
        "there is no process $dead (it has ended, or the number is wrong): give the PID of a process started with cr_run" $dead
fi
pass "a PID that is gone"

# a zombie (its parent, now sleep, never reaps it). The child ends only once its parent is sleep:
# ended earlier, the subshell (bash reaps children on SIGCHLD) could reap it before the exec.
( sh -c 'while [ "$(cat /proc/$PPID/comm)" != sleep ]; do sleep 0.05; done; exec sleep 0' &
  echo $! >"$W/zombie.pid"; exec sleep 600 ) & zparent=$!
jobs_started="$jobs_started $zparent"
wait_for 30 '[ -s "$W/zombie.pid" ] && grep -q "^State:.*Z" /proc/$(cat "$W/zombie.pid")/status 2>/dev/null' ||
    fail "no zombie was made"
z=$(cat "$W/zombie.pid")
t="process $z has exited (sleep, a zombie its parent $zparent has not reaped yet): there is nothing left to checkpoint"
both 1 "$t" "$t" $z
kill $zparent
pass "a zombie"

# a process that runs under nothing of Revive's
sleep 60 & plain=$!
jobs_started="$jobs_started $plain"
wait_exec $plain
both 1 "process $plain (sleep) is not an MPI launcher started with Revive's 'mpirun -am ft-enable-cr'" \
    "process $plain (sleep) does not run under Revive (start it with cr_run, or link it with -lcr)" $plain
pass "a process not under Revive"

# PID 1: no search under it (it would name some other job's mpirun), no "start it with cr_run"
init=$(cat /proc/1/comm)
both 1 "process 1 ($init) is the first process of this pid namespace (its init), not an MPI launcher" \
    "process 1 ($init), the first process of this pid namespace (its init), does not run under Revive" 1
pass "PID 1"

# cross hints: a cr_run process to ckpt-mpirun, a rank of a Revive job to cr_checkpoint
( clean_exec "$CRRUN" sleep 60 ) & crp=$!
jobs_started="$jobs_started $crp"
wait_for 30 '[ "$(cat /proc/$crp/comm 2>/dev/null)" = sleep ] && grep -q libcr.so /proc/$crp/maps' ||
    fail "cr_run sleep did not start"
one 1 "process $crp (sleep) is not an MPI launcher started with Revive's 'mpirun -am ft-enable-cr' (nor is any process above it); it runs under Revive's cr_run, as one process: cr_checkpoint $crp checkpoints it" \
    ckpt-mpirun "$CKPT" $crp
kill $crp
start_job a 2 --iters $UNTIL_KILLED --sleep-us 2000
# a rank: by its name, not the last pid whose command line names the job (the coordinator's
# revive-witness, forked from it, has its command line and at times the highest pid)
rank=
for p in $(pgrep -f -- "--ready $W/a.ready"); do
    [ "$(cat /proc/$p/comm 2>/dev/null)" = fake_rank ] && rank=$p
done
one 1 "process $rank (fake_rank) belongs to the MPI job of Revive's mpirun $JOB, which is checkpointed as a whole: ckpt-mpirun $JOB" \
    cr_checkpoint "$CRCK" $rank
one 1 "process $JOB (revive-coord) belongs to the MPI job of Revive's mpirun $JOB, which is checkpointed as a whole: ckpt-mpirun $JOB" \
    cr_checkpoint "$CRCK" $JOB
pass "cross hints: cr_run's process to ckpt-mpirun, a rank and the job's mpirun to cr_checkpoint"

# another user's process: nobody asks about root's sleep (and PID 1)
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null && id nobody >/dev/null 2>&1; then
    chmod 755 "$W"
    chmod 777 "$W/cwd" 2>/dev/null
    asnobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
    if ! asnobody test -x "$CKPT" || ! asnobody test -x "$CRCK"; then
        echo "skip: nobody cannot run the build tree's tools (directory permissions)"
    else
        for p in $plain 1; do
            c=$(cat /proc/$p/comm)
            one 1 "process $p ($c) belongs to user root (uid 0): only that user or root can checkpoint it; run ckpt-mpirun $p as root" \
                ckpt-mpirun asnobody "$CKPT" $p
            one 1 "process $p ($c) belongs to user root (uid 0): only that user or root can checkpoint it; run cr_checkpoint $p as root" \
                cr_checkpoint asnobody "$CRCK" $p
        done
        # the command to run is the whole one given (it dropped every option: session 19)
        p=${plain%% *}
        one 1 "process $p ($(cat /proc/$p/comm)) belongs to user root (uid 0): only that user or root can checkpoint it; run ckpt-mpirun --timeout 5 --term $p as root" \
            ckpt-mpirun asnobody "$CKPT" --timeout 5 --term $p
        one 1 "process $p ($(cat /proc/$p/comm)) belongs to user root (uid 0): only that user or root can checkpoint it; run cr_checkpoint -f '$W/a b.img' --term $p as root" \
            cr_checkpoint asnobody "$CRCK" -f "$W/a b.img" --term $p
        # and root's own refusal of nobody's plain process is the "not under Revive" one
        setpriv --reuid=nobody --regid=nogroup --clear-groups sleep 60 & np=$!
        jobs_started="$jobs_started $np"
        wait_exec $np
        both 1 "process $np (sleep) is not an MPI launcher" "process $np (sleep) does not run under Revive" $np
        kill $np
        pass "another user's process (as nobody), and root on nobody's"
    fi
    chmod 700 "$W"
else
    echo "skip: another user's process needs root, setpriv and the user nobody"
fi

# the exit statuses are the ones each --help documents
"$CKPT" --help | tr '\n' ' ' | grep -q "a PID that names no job to checkpoint" || fail "ckpt-mpirun --help does not document a bad PID's status"
"$CRCK" --help | tr '\n' ' ' | grep -q "PID names no process this command can checkpoint" || fail "cr_checkpoint --help does not document a bad PID's status"
pass "--help of both documents the statuses"

kill $plain $JOB 2>/dev/null
wait_no_strays
finish
