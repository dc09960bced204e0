#!/bin/bash
# Requests that wait together (ckpt-mpirun --wait, queued behind a checkpoint in progress) share
# one snapshot, whatever each asks: plain, --term, --stop, --save-shared. The job is left as the
# strongest ask leaves it (--term, then --stop, then running again), and each request is told
# the truth about it: status 0 and its own words when that is what it asked, else status 3 (the
# snapshot committed, its reference the last line), the job's state and which ask left it so.
# newuser12 F3: a --term and a --stop request sharing one snapshot: the job ended, yet the --stop
# one exited 0 saying "its ranks and its launcher are stopped (--stop)"; a plain one sharing with
# --stop was told "running again" (it was stopped). Every pair of the four asks, and all four.
. "$(dirname "$0")/lib.sh"
snapc_workdir snapc-waitshared

# the job's state after the snapshot the asks A... leave: ended, stopped or running
end_of() {
    case " $* " in *" --term "*) echo ended ;; *" --stop "*) echo stopped ;; *) echo running ;; esac
}
own_end() { case $1 in --term) echo ended ;; --stop) echo stopped ;; *) echo running ;; esac; }

# mix NAME ASK...: a job of 2 fake ranks; a plain checkpoint held at rank 0's capture; one
# ckpt-mpirun --wait per ASK ("plain" none) queued behind it; then the hold is let go and every
# answer and the job's state checked.
mix() {
    local name=$1 i=0 a end first pids=() rc ref0= ref what
    shift
    end=$(end_of "$@")
    start_job "$name" 2 --iters $UNTIL_KILLED --sleep-us 500 --hold "0:capture:$W/$name.hold"
    touch "$W/$name.hold"
    "$CKPT" --status $JOB >"$W/$name.first.out" 2>"$W/$name.first.err" & first=$!
    wait_for 60 'grep -q "] Drained" "$W/$name.first.err"' ||
        fail "$name: the first request did not reach Drained: $(cat "$W/$name.first.err")"
    for a in "$@"; do
        i=$((i + 1))
        # shellcheck disable=SC2046
        "$CKPT" --wait --status $([ "$a" = plain ] || echo "$a") $JOB \
            >"$W/$name.$i.out" 2>"$W/$name.$i.err" & pids+=($!)
        wait_for 60 'grep -qs "] Queued" "$W/$name.$i.err"' ||
            fail "$name: request $i ($a) was not queued: $(cat "$W/$name.$i.err")"
    done
    rm -f "$W/$name.hold"
    wait $first || fail "$name: the first request failed: $(cat "$W/$name.first.err")"
    i=0
    for a in "$@"; do
        i=$((i + 1))
        wait ${pids[$((i - 1))]}; rc=$?
        what="$name: request $i ($a, sharing with $*)"
        local f=$W/$name.$i.err want=0
        [ "$(own_end "$a")" = "$end" ] || want=3
        [ $rc = $want ] || fail "$what: exit status $rc, expected $want (the job $end): $(tail -n 3 "$f")"
        ref=$(tail -n1 "$W/$name.$i.out")
        [ "$ref" = "$W/revive_global_snapshot_$JOB.ckpt/1" ] || fail "$what: reference '$ref', not sequence 1"
        [ -z "$ref0" ] || [ "$ref" = "$ref0" ] || fail "$what: reference $ref, another request's $ref0"
        ref0=$ref
        case $end/$want in
        ended/0) grep -qF "job $JOB has ended (--term); restart-mpi $ref runs it again" "$f" ;;
        ended/3) grep -qF "job $JOB was ended after its checkpoint, $([ "$a" = --stop ] && echo "not stopped (--stop)" || echo "not left running"): another request that shared the snapshot (--wait) asked --term; restart-mpi $ref runs it again from the snapshot" "$f" ;;
        stopped/0) grep -qF "job $JOB: its ranks and its launcher are stopped (--stop); kill -CONT $JOB" "$f" ;;
        stopped/3) grep -qF "job $JOB: its ranks and its launcher are stopped (not running again: another request that shared the snapshot (--wait) asked --stop); kill -CONT $JOB" "$f" ;;
        running/0) grep -q "snapshot 1 committed" "$f" && ! grep -qE "stopped|ended" "$f" ;;
        esac || fail "$what: not told the job is $end: $(grep -v '^\[' "$f")"
        # the summary's "running again N" (ms) only for a job that runs again
        if [ $end != running ] && grep -qE "running again -?[0-9]|runs again" "$f"; then
            fail "$what: told it runs again, the job $end: $(grep -E 'running again|runs again' "$f")"
        fi
        # the shared file mappings saved for another request: said
        case " $* " in *" --save-shared "*)
            if [ "$a" != --save-shared ]; then
                grep -qF "the snapshot also saves the pages of files the ranks map shared and writable: another request that shared it (--wait) asked --save-shared" "$f" ||
                    fail "$what: not told the snapshot saves the shared file mappings: $(grep -v '^\[' "$f")"
            fi ;;
        esac
    done
    consistent "$ref0" 2
    # the job is as they were told
    case $end in
    ended) job_gone $JOB 60 || fail "$name: the job still runs 60 s after its --term snapshot" ;;
    stopped)
        rank_pid 0 || fail "$name: no launcher or rank 0 of the stopped job"
        [ "$(awk '{print $3}' /proc/$RANK_PID/stat 2>/dev/null)" = T ] ||
            fail "$name: rank 0 (pid $RANK_PID) is not stopped: $(awk '{print $3}' /proc/$RANK_PID/stat 2>/dev/null)"
        # continued, and running again before the SIGTERM below: fake_launch loses a signal
        # that comes while it re-enters waitpid after its SIGCONT (tests/snapc/fake_launch.c)
        kill -CONT $JOB
        wait_for 60 '[ "$(awk "{print \$3}" /proc/$RANK_PID/stat 2>/dev/null)" != T ] &&
            [ "$(awk "{print \$3}" /proc/$LAUNCHER/stat 2>/dev/null)" != T ] &&
            grep -q "the job continues" "$W/$name.err"' ||
            fail "$name: the job was not continued within 60 s of SIGCONT to mpirun" ;;
    running)
        rank_pid 0 && [ "$(awk '{print $3}' /proc/$RANK_PID/stat 2>/dev/null)" != T ] ||
            fail "$name: rank 0 of the job is not running" ;;
    esac
    kill -TERM $JOB 2>/dev/null
    job_gone $JOB 60 || { fail "$name: the job did not end within 60 s of SIGTERM"; show_stuck $JOB "$W/$name.err"; kill -KILL $JOB; }
    wait $JOB 2>/dev/null
    wait_no_strays
    pass "$name: $* share one snapshot; the job $end; each told so"
}

asks=(plain --term --stop --save-shared)
n=0
for x in 0 1 2 3; do
    for y in $(seq $x 3); do
        n=$((n + 1))
        # the stronger ask queued first, then last: the order changes nothing
        if [ $((n % 2)) = 0 ]; then mix m$n "${asks[$y]}" "${asks[$x]}"; else mix m$n "${asks[$x]}" "${asks[$y]}"; fi
    done
done
mix all --stop plain --save-shared --term
finish
