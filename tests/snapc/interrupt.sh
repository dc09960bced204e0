#!/bin/bash
# ^C (SIGINT) of ckpt-mpirun after it started, at several moments (0.05-0.3 s), with --term,
# --stop and neither, on jobs of 2 fake ranks: the command says which case happened and the
# job is left as it says. Begun: the snapshot commits, its reference is the last line of stdout
# (a script that sent the ^C still finds it), --term ENDS the job, --stop leaves it stopped with
# how to continue it, a plain one runs on; before the request was sent: nothing asked, the job
# runs on, no snapshot. Status 130 either way. A checkpoint begun on a job left stopped by an
# earlier --stop: said that it goes on once the job is continued. (The queued case, withdrawn:
# converge.sh.)
# Before (newuser15 F1): one either/or sentence, no reference, the --term'd job ended anyway.
. "$(dirname "$0")/lib.sh"
snapc_workdir snapc-interrupt

begun=0
# trial NAME MODE WHEN: ckpt-mpirun MODE (--term, --stop or "") of a fresh job, SIGINT after WHEN s
trial() {
    local name=$1 mode=$2 when=$3 st ref jd
    # rank 1 writes its image 0.6 s late: a ^C up to 0.3 s after the command started comes
    # before the commit
    start_job "$name" 2 --iters $UNTIL_KILLED --sleep-us 300 --seed ${#name} --slow 1:capture:600
    jd=$W/revive_global_snapshot_$JOB.ckpt
    "$CKPT" $mode "$JOB" >"$W/$name.cout" 2>"$W/$name.cerr" & local c=$!
    wait_exec $c   # (a background shell ignores SIGINT until it execs the command)
    nap "$when"
    kill -INT $c
    wait $c; st=$?
    ref=$(tail -n1 "$W/$name.cout")
    local said; said=$(grep -v '^\[' "$W/$name.cerr" | tr '\n' ' ')
    if [ -z "$ref" ]; then
        # nothing asked (or withdrawn): the job runs on, no snapshot
        [ $st = 130 ] || fail "$name ($mode, ^C at $when s): status $st with no reference: $said"
        grep -qF "interrupted before the request reached the job's coordinator: nothing was asked of the job, no checkpoint" "$W/$name.cerr" ||
            fail "$name ($mode, ^C at $when s): no reference, and not said that nothing was asked: $said"
        nap 1
        kill -0 $JOB 2>/dev/null || fail "$name: nothing was asked, yet the job ended"
        [ "$(committed "$jd")" = 0 ] || fail "$name: nothing was asked, yet a snapshot was committed"
        kill -TERM $JOB 2>/dev/null; wait $JOB
        echo "$name ($mode, ^C at $when s): no reference, status $st"
        return
    fi
    begun=$((begun + 1))
    [ "$ref" = "$jd/0" ] || fail "$name ($mode, ^C at $when s): last line '$ref', not $jd/0"
    if [ $st = 130 ]; then
        grep -qF "interrupted (SIGINT): job $JOB's checkpoint had begun, so it was not withdrawn: snapshot 0 goes on without this command" "$W/$name.cerr" ||
            grep -qF "interrupted (SIGINT): job $JOB's snapshot 0 is committed" "$W/$name.cerr" ||
            fail "$name ($mode, ^C at $when s): the begun case not said: $said"
    elif [ $st != 0 ]; then
        fail "$name ($mode, ^C at $when s): status $st: $said"
    fi
    case $mode in
    --term)
        [ $st = 0 ] || grep -qF "the job ENDS (--term); restart-mpi $ref runs it again from the snapshot" "$W/$name.cerr" ||
            fail "$name: not said that the job ends: $said"
        job_gone $JOB 60 || fail "$name: --term begun: the job still runs 60 s after the ^C"
        wait $JOB; local js=$?
        [ $js = 0 ] || fail "$name: --term begun: the job's status $js, not 0"
        ;;
    --stop)
        [ $st = 0 ] || grep -qF "the job's ranks and launcher are STOPPED (--stop): kill -CONT $JOB continues them" "$W/$name.cerr" ||
            fail "$name: not said that the job stays stopped: $said"
        local ranks; ranks=$(for p in $(pgrep -f -- "--ready $W/$name.ready"); do [ "$(cat /proc/$p/comm)" = fake_rank ] && echo $p; done)
        nstopped() { local p n=0; for p in $ranks; do [ "$(ps -o stat= -p $p | cut -c1)" = T ] && n=$((n + 1)); done; echo $n; }
        wait_for 60 '[ "$(nstopped)" = 2 ]' || fail "$name: --stop begun: $(nstopped) of 2 ranks stopped"
        kill -CONT $JOB
        wait_for 60 '[ "$(nstopped)" = 0 ]' || fail "$name: $(nstopped) ranks still stopped after kill -CONT $JOB"
        ;;
    *)
        [ $st = 0 ] || grep -qF "goes on without this command, and the job runs on" "$W/$name.cerr" ||
            fail "$name: not said that the job runs on: $said"
        ;;
    esac
    wait_for 60 '[ -f "$ref/snapshot.meta" ]' || fail "$name: snapshot 0 never committed"
    consistent "$ref" 2
    if [ "$mode" != --term ]; then
        nap 0.5
        kill -0 $JOB 2>/dev/null || fail "$name: the job ended ($mode)"
        kill -TERM $JOB; wait $JOB
    fi
    echo "$name ($mode, ^C at $when s): status $st, begun, the job left as said: $said"
}

i=0
for when in 0.05 0.1 0.15 0.2 0.3; do
    i=$((i + 1)); trial term$i --term $when
done
trial stop1 --stop 0.1
trial plain1 "" 0.1
# a checkpoint begun on a job an earlier --stop left stopped: it waits for kill -CONT, and the
# ^C says so (diffrev46 R-L3: "the job runs on"); once continued, the snapshot commits
start_job stopped 2 --iters $UNTIL_KILLED --sleep-us 300 --seed 9
expect_rc 0 "--stop" "$CKPT" --stop $JOB
"$CKPT" "$JOB" >"$W/st.cout" 2>"$W/st.cerr" & c=$!
wait_for 60 'grep -q "the job is stopped" "$W/st.cerr"' || fail "a request on the stopped job: not told it is stopped"
kill -INT $c; wait $c; st=$?
ref=$(tail -n1 "$W/st.cout")
[ $st = 130 ] && [ "$ref" = "$W/revive_global_snapshot_$JOB.ckpt/1" ] &&
    grep -qF "snapshot 1 goes on without this command, and the job runs on once continued (ckpt-info says whether it committed; the reference is the last line); the job is stopped now (an earlier --stop): the checkpoint goes on once kill -CONT $JOB continues it" "$W/st.cerr" ||
    fail "^C of a checkpoint begun on a stopped job: status $st, '$ref': $(grep -v '^\[' "$W/st.cerr")"
kill -CONT $JOB
wait_for 60 '[ -f "$ref/snapshot.meta" ]' || fail "the begun checkpoint did not commit once the job was continued"
kill -TERM $JOB; wait $JOB
pass "^C of a checkpoint begun on a stopped job: said that it waits for kill -CONT, committed once continued"

# the moments are chosen so that most trials catch a begun checkpoint; none would test nothing
[ $begun -gt 0 ] || fail "no trial caught a checkpoint that had begun (the load?)"
pass "^C of ckpt-mpirun at 7 moments: $begun begun, each case said and the job left as said"
wait_no_strays
finish
