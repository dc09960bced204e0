#!/bin/bash
# stop_tree.sh FLAVOR: ckpt-mpirun --stop stops the processes under each rank too (newuser7 F5),
# on 2 ranks of stop_tree.c: each rank's child and grandchild burn CPU for the whole run.
# (A child the application stopped itself cannot be in a snapshot: the capture refuses it, "let
# it run (kill -CONT PID)"; so --stop meets one only when stopped after the capture.)
# After `ckpt-mpirun --stop`: every process of the job's tree under mpirun (the launcher, MPICH's
# hydra_pmi_proxy, the ranks, theirs) is in state T, every burner and its CPU time (utime + stime in
# /proc/PID/stat) does not move over 1 s. Before, the ranks stopped and their children ran on,
# burning CPU in a "stopped" job. Then SIGCONT to the job's mpirun: the burners run again (their
# CPU time moves within 3 s), and the job ends with the uninterrupted run's results ("done:
# children ok": every child ended as told). Part 2: the same with a thread of each rank forking
# short-lived children while --stop stops the job, part 3 with traced grandchildren held by their
# tracer, part 4 with grandchildren traced as by strace (below).
flavor=$1
. "$(dirname "$0")/../mpienv.sh" || exit $?
. "$(dirname "$0")/ckptenv.sh" || exit $?
ck_prog stop_tree
steps=60 ms=50
ck_workdir stoptree
run_native 2 "$prog" $steps "$d/nopace" 0 >native.out 2>native.err ||
    { failed "the native run: status $?"; tail -n 3 native.err; exit 1; }
grep -q '^done: children ok$' native.out || failed "the native run did not end with 'done: children ok'"

# named PID...: the pids among those whose command is NAME
named() {
    local n=$1 p c
    shift
    for p in "$@"; do read -r c 2>/dev/null </proc/$p/comm && [ "$c" = "$n" ] && echo $p; done
}
# cpu PID: utime + stime (clock ticks), "gone" when it has ended
cpu() {
    local l a
    read -r l 2>/dev/null </proc/$1/stat || { echo gone; return; }
    a=(${l##*) })
    echo $((a[11] + a[12]))
}
state() {
    local l a
    read -r l 2>/dev/null </proc/$1/stat || { echo gone; return; }
    a=(${l##*) })
    echo ${a[0]}
}
# not_stopped PID...: " PID(COMM):STATE" for each that is neither stopped (T), a zombie nor gone
not_stopped() {
    local p s c
    for p in "$@"; do
        s=$(state $p)
        case $s in T | Z | gone) ;; *) read -r c 2>/dev/null </proc/$p/comm; printf ' %s(%s):%s' $p "$c" $s ;; esac
    done
}

touch pace
clean timeout -k 5 900 "$wrapper" -am ft-enable-cr --ckpt-dir "$d" -n 2 "$prog" $steps "$d/pace" $ms \
    >out.s 2>err.s &
job=$!; pids+=($job)
wait_steps out.s 2 $job || failed "the job did not reach step 2: $(tail -n 2 err.s)"
all=$(descendants $job)
burners="$(named st_burn $all) $(named st_burn2 $all)"
held=$(named st_held $all)
set -- $burners
if [ $# != 4 ]; then
    failed "the ranks' children not found (burners: '$burners', held: '$held')"
    show_procs $job
elif ! ref=$(checkpoint $job stop --stop); then
    failed "ckpt-mpirun --stop: $(head -n 3 ckpt.stop.err)"
else
    c=$(coord $job)
    # the job's whole tree under the coordinator is stopped: the launcher, what it started
    # between it and the ranks (MPICH's hydra_pmi_proxy, which ran on: newuser7d), the ranks and
    # theirs; but Revive's watchers, which must run while the job is stopped: the coordinator's
    # signal witness and each rank's cover (which ends what the rank stopped should it die)
    tree=
    for p in $(descendants $c | tail -n +2); do
        read -r comm 2>/dev/null </proc/$p/comm || continue
        case $comm in revive-witness | revive-cover) ;; *) tree="$tree $p" ;; esac
    done
    bad=$(not_stopped $tree)
    if [ -n "$bad" ]; then
        failed "after --stop processes of the job's tree under mpirun run on (pid(comm):state):$bad"
        show_procs $job
    else
        pass "after --stop every process of the job's tree under mpirun is stopped ($(echo $tree | wc -w), state T)"
    fi
    declare -A t0
    for p in $burners; do t0[$p]=$(cpu $p); done
    sleep 1
    bad=
    for p in $burners; do
        s=$(state $p) t=$(cpu $p)
        [ "$s" = T ] && [ "$t" = "${t0[$p]}" ] || bad="$bad $p:state=$s,cpu=${t0[$p]}->$t"
    done
    if [ -n "$bad" ]; then
        failed "after --stop the ranks' children and grandchildren are not all stopped (pid:state,cpu ticks over 1 s):$bad"
        show_procs $job
    else
        pass "after --stop the ranks' 4 children and grandchildren are stopped (state T, no CPU time over 1 s)"
    fi
    kill -CONT $c
    moved=
    for i in $(seq 30); do
        sleep 0.1
        moved=
        for p in $burners; do
            s=$(state $p) t=$(cpu $p)
            [ "$s" != T ] && [ "$s" != gone ] && [ "$t" != "${t0[$p]}" ] && moved="$moved $p"
        done
        [ "$(echo $moved | wc -w)" = 4 ] && break
    done
    stopped=
    for i in $(seq 30); do
        stopped=
        for p in $(descendants $c | tail -n +2); do
            [ "$(state $p)" = T ] && stopped="$stopped $p($(cat /proc/$p/comm 2>/dev/null))"
        done
        [ -z "$stopped" ] && break
        sleep 0.1
    done
    [ -z "$stopped" ] && pass "after SIGCONT to mpirun no process of the job's tree is stopped" ||
        { failed "after SIGCONT to mpirun processes of the job's tree are still stopped:$stopped"; show_procs $job; }
    if [ "$(echo $moved | wc -w)" = 4 ]; then
        pass "after SIGCONT to mpirun every child and grandchild runs again"
    else
        failed "after SIGCONT to mpirun not every child runs again (running: '$moved' of '$burners')"
        show_procs $job
    fi
fi
rm -f pace
ran_on $job s "the job stopped with --stop and continued"
grep -q '^done: children ok$' out.s && pass "every child ended as told (done: children ok)" ||
    failed "the job's last line is not 'done: children ok': $(tail -n 1 out.s)"

# 2. STOP_TREE_FORKER: a thread of each rank forks a short-lived child every 300 ms; with
# REVIVE_FAULT=mpi-stop-window each rank stops itself 500 ms after the processes under it. A child
# forked in between ran on in the stopped job (stop32's gap): now its fork waits until the job
# continues. Right after --stop every st_fork is stopped (T) or ended; after SIGCONT the job ends
# as uninterrupted, every child ended 0.
touch pace
STOP_TREE_FORKER=1 REVIVE_FAULT=mpi-stop-window clean timeout -k 5 900 "$wrapper" -am ft-enable-cr \
    --ckpt-dir "$d" -n 2 "$prog" $steps "$d/pace" $ms >out.f 2>err.f &
job=$!; pids+=($job)
if ! wait_steps out.f 2 $job; then
    failed "forker: the job did not reach step 2: $(tail -n 2 err.f)"
elif ! ref=$(checkpoint $job fstop --stop); then
    failed "forker: ckpt-mpirun --stop: $(head -n 3 ckpt.fstop.err)"
else
    all=$(descendants $job)
    forked=$(named st_fork $all)
    n=$(echo $forked | wc -w)
    bad=$(not_stopped $forked)
    if [ -n "$bad" ]; then
        failed "forker: after --stop children the ranks forked run on in the stopped job (pid(comm):state):$bad"
        show_procs $job
    else
        pass "forker: after --stop all $n children the ranks' threads had forked are stopped or ended"
    fi
    kill -CONT $(coord $job)
fi
rm -f pace
ran_on $job f "forker: the job stopped with --stop and continued"
grep -q '^done: children ok$' out.f && pass "forker: every child ended as told (done: children ok)" ||
    failed "forker: the job's last line is not 'done: children ok': $(tail -n 1 out.f)"

# 3. traced: each rank's st_burn2 is traced from outside the job by st_tracer.c (as a debugger
# holding it would: every signal passed on but SIGSTOP, at which it stays in its tracing stop until
# st_tracer gets SIGUSR1): after --stop both st_burn2 are in state t, which is stopped; after
# SIGCONT (and the tracers' release) the job ends as uninterrupted, and its ranks (REVIVE_VERBOSE=1:
# warnings) never said "did not show stopped within 2 s". Before (diffrev34 R-L1) the layer's wait
# took T only, which a traced process never shows: --stop waited out its whole 2 s bound for it
# and said so (read once the job has ended: the ranks' lines reach err.t through the launcher).
tracer=$REVIVE_BUILDDIR/tests/mpi/ckpt/st_tracer
[ -x "$tracer" ] || { echo "SKIP-PART: traced ($tracer not built)"; exit $fail; }
touch pace
REVIVE_VERBOSE=1 clean timeout -k 5 900 "$wrapper" -am ft-enable-cr --ckpt-dir "$d" -n 2 "$prog" $steps \
    "$d/pace" $ms >out.t 2>err.t &
job=$!; pids+=($job)
if ! wait_steps out.t 2 $job; then
    failed "traced: the job did not reach step 2: $(tail -n 2 err.t)"
else
    tracers= traced= stopped=
    for p in $(named st_burn2 $(descendants $job)); do
        "$tracer" $p >tracer.$p 2>&1 &
        tracers="$tracers $!" traced="$traced $p"
        pids+=($!)
    done
    for i in $(seq 100); do
        [ "$(cat tracer.* 2>/dev/null | grep -c '^tracing')" = 2 ] && break
        grep -q 'cannot trace' tracer.* 2>/dev/null && break
        sleep 0.1
    done
    if [ "$(cat tracer.* 2>/dev/null | grep -c '^tracing')" != 2 ]; then
        echo "SKIP-PART: traced (no process could be traced here: $(cat tracer.* 2>/dev/null | head -n 2 | tr '\n' ' '))"
    elif ! ref=$(checkpoint $job tstop --stop); then
        failed "traced: ckpt-mpirun --stop: $(head -n 3 ckpt.tstop.err)"
    else
        bad=
        for p in $traced; do
            s=$(state $p)
            [ "$s" = t ] || bad="$bad $p:$s"
        done
        [ -z "$bad" ] && pass "traced: after --stop both traced grandchildren are in state t" ||
            failed "traced: after --stop the traced grandchildren are not in state t (pid:state):$bad"
        stopped=1
        kill -CONT $(coord $job)
    fi
    kill -USR1 $tracers 2>/dev/null # (the tracers resume them: a debugger's user would)
    rm -f pace
    ran_on $job t "traced: the job stopped with --stop and continued"
    wait $tracers 2>/dev/null
    # (read once the job has ended: the ranks' lines reach err.t through the launcher, later)
    if [ -z "$stopped" ]; then
        :
    elif grep -q 'did not show stopped within' err.t; then
        failed "traced: --stop waited out its bound for processes stopped under their tracer (state t):" \
            "$(grep -m 1 'did not show stopped within' err.t)"
    else
        pass "traced: --stop took state t as stopped (no 'did not show stopped' warning)"
    fi
fi
rm -f pace
grep -q '^done: children ok$' out.t && pass "traced: every child ended as told (done: children ok)" ||
    failed "traced: the job's last line is not 'done: children ok': $(tail -n 1 out.t)"

# 4. strace: each rank's st_burn2 is traced from outside the job as strace writing to a slow
# terminal would (st_tracer PID 10: each system call's entry and exit held 10 ms, state t nearly
# all the time, "sys" printed for each): after --stop the tracers see no system call over 1 s (the
# burners got SIGSTOP and sit in a group-stop), and the job ends as uninterrupted after SIGCONT.
# Before, the layer took state t at one look as "stopped already, not by Revive" and left the
# burner running in the stopped job (the confusion d6ce31d mended in cr_checkpoint).
touch pace
clean timeout -k 5 900 "$wrapper" -am ft-enable-cr --ckpt-dir "$d" -n 2 "$prog" $steps "$d/pace" $ms \
    >out.y 2>err.y &
job=$!; pids+=($job)
if ! wait_steps out.y 2 $job; then
    failed "strace: the job did not reach step 2: $(tail -n 2 err.y)"
else
    tracers= traced=
    rm -f strace.*
    for p in $(named st_burn2 $(descendants $job)); do
        "$tracer" $p 10 >strace.$p 2>&1 &
        tracers="$tracers $!" traced="$traced $p"
        pids+=($!)
    done
    for i in $(seq 100); do
        [ "$(cat strace.* 2>/dev/null | grep -c '^tracing')" = 2 ] && break
        grep -q 'cannot trace' strace.* 2>/dev/null && break
        sleep 0.1
    done
    calls() { cat strace.* 2>/dev/null | grep -c '^sys$'; }
    c0=$(calls)
    sleep 0.5
    if [ "$(cat strace.* 2>/dev/null | grep -c '^tracing')" != 2 ]; then
        echo "SKIP-PART: strace (no process could be traced here: $(cat strace.* 2>/dev/null | head -n 2 | tr '\n' ' '))"
        kill -CONT $(coord $job) 2>/dev/null
    elif [ "$(calls)" = "$c0" ]; then
        failed "strace: the traced burners made no system call in 0.5 s before the stop (tracers: $(calls) calls)"
    elif ! ref=$(checkpoint $job ystop --stop); then
        failed "strace: ckpt-mpirun --stop: $(head -n 3 ckpt.ystop.err)"
    else
        c1=$(calls)
        sleep 1
        c2=$(calls) bad=
        for p in $traced; do
            s=$(state $p)
            [ "$s" = t ] || [ "$s" = T ] || bad="$bad $p:$s"
        done
        if [ "$c2" != "$c1" ] || [ -n "$bad" ]; then
            failed "strace: after --stop the traced burners ran on: $((c2 - c1)) system calls over 1 s (states:$(for p in $traced; do printf ' %s:%s' $p $(state $p); done))"
        else
            pass "strace: after --stop both burners traced as by strace are stopped (no system call over 1 s, state t)"
        fi
        kill -CONT $(coord $job)
    fi
    rm -f pace
    ran_on $job y "strace: the job stopped with --stop and continued"
    wait $tracers 2>/dev/null
fi
rm -f pace
grep -q '^done: children ok$' out.y && pass "strace: every child ended as told (done: children ok)" ||
    failed "strace: the job's last line is not 'done: children ok': $(tail -n 1 out.y)"
exit $fail
