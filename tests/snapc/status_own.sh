#!/bin/bash
# Each request's progress lines (ckpt-mpirun --status) and its answer are its own checkpoint's,
# also for requests queued (--wait) behind another checkpoint. newuser47 L2: a `--wait --status`
# queued behind a checkpoint in progress printed that checkpoint's "Locally Finished",
# "Recovered" and "Established" as its own phases, before its own "Requested" (a user, or a
# script reading --status, saw "my snapshot was established at 3 s"); the same rule answered a
# queued `--wait --no-wait-stage` with the checkpoint ahead's snapshot (sequence 0, taken before
# it asked) at that one's "Recovered".
. "$(dirname "$0")/lib.sh"
snapc_workdir snapc-status-own

# phases FILE: the phase names of ckpt-mpirun --status's lines in FILE, one a line, in order
phases() { sed -n 's/^\[ *[0-9.]* s\] //p' "$1"; }
# own_phases WHAT FILE SEQ [nowait]: FILE's lines are one checkpoint's: Requested first (after
# "Queued" and the line that the checkpoint ahead committed, when queued), each phase once,
# Established (but with nowait, answered at Recovered) and after it only Recovered; the command's
# reference (its .out's last line) sequence SEQ
own_phases() {
    local what=$1 f=$2 seq=$3 p dup
    p=$(phases "$f" | grep -v '^Queued (after the checkpoint in progress, sequence [0-9]*)$' |
        grep -v '^the checkpoint ahead of this one (sequence [0-9]*) is committed$')
    [ "$(echo "$p" | head -n1)" = Requested ] ||
        fail "$what: its first phase is not its Requested: $(echo "$p" | tr '\n' '|')"
    dup=$(echo "$p" | sort | uniq -d)
    [ -z "$dup" ] || fail "$what: phases said twice ($(echo $dup)): $(echo "$p" | tr '\n' '|')"
    if [ "${4:-}" != nowait ]; then
        echo "$p" | grep -qx Established || fail "$what: no Established: $(echo "$p" | tr '\n' '|')"
        echo "$p" | sed '1,/^Established$/d' | grep -vqx Recovered &&
            fail "$what: phases after its Established: $(echo "$p" | tr '\n' '|')"
    fi
    [ "$(tail -n1 "${f%.err}.out")" = "$W/revive_global_snapshot_$JOB.ckpt/$seq" ] ||
        fail "$what: reference '$(tail -n1 "${f%.err}.out")', not sequence $seq"
}

# 1. a --status request held at rank 0's capture; two --wait --status requests queued behind it
start_job s 2 --iters $UNTIL_KILLED --sleep-us 500 --hold "0:capture:$W/s.hold"
touch "$W/s.hold"
"$CKPT" --status $JOB >"$W/a.out" 2>"$W/a.err" & a=$!
wait_for 60 'grep -q "] Drained" "$W/a.err"' || fail "the first request did not reach Drained: $(cat "$W/a.err")"
for q in q1 q2; do
    "$CKPT" --wait --status $JOB >"$W/$q.out" 2>"$W/$q.err" &
    eval "$q=\$!"
    wait_for 60 'grep -qs "] Queued" "$W/$q.err"' || fail "$q was not queued: $(cat "$W/$q.err")"
done
rm -f "$W/s.hold"
wait $a || fail "the first request failed: $(cat "$W/a.err")"
wait $q1 || fail "q1 failed: $(cat "$W/q1.err")"
wait $q2 || fail "q2 failed: $(cat "$W/q2.err")"
own_phases "the first request" "$W/a.err" 0
grep -q "Queued\|ahead of this one" "$W/a.err" && fail "the first request was told of a queue: $(cat "$W/a.err")"
for q in q1 q2; do
    own_phases "queued $q" "$W/$q.err" 1
    [ "$(phases "$W/$q.err" | head -n2 | tr '\n' '|')" = "Queued (after the checkpoint in progress, sequence 0)|the checkpoint ahead of this one (sequence 0) is committed|" ] ||
        fail "queued $q: not told it waits, then that the checkpoint ahead committed: $(phases "$W/$q.err" | tr '\n' '|')"
done
consistent "$W/revive_global_snapshot_$JOB.ckpt/1" 2
pass "a --status request and two queued behind it: each prints its own checkpoint's phases, once each"

# 2. a --wait --no-wait-stage request queued behind a checkpoint in progress: answered by a
# snapshot of its own (sequence 3, after its request), not at the one ahead's "Recovered"
rm -f "$W/s.hold.in"
touch "$W/s.hold"
"$CKPT" $JOB >"$W/b.out" 2>"$W/b.err" & a=$!
wait_for 60 '[ -e "$W/s.hold.in" ]' || fail "the second request's capture was not held: $(cat "$W/b.err")"
"$CKPT" --wait --no-wait-stage --status $JOB >"$W/n.out" 2>"$W/n.err" & n=$!
wait_for 60 'grep -qs "] Queued" "$W/n.err"' || fail "the --no-wait-stage request was not queued: $(cat "$W/n.err")"
rm -f "$W/s.hold"
wait $a || fail "the request ahead failed: $(cat "$W/b.err")"
wait $n || fail "the queued --no-wait-stage request failed: $(cat "$W/n.err")"
[ "$(tail -n1 "$W/b.out")" = "$W/revive_global_snapshot_$JOB.ckpt/2" ] ||
    fail "the request ahead: reference '$(tail -n1 "$W/b.out")', not sequence 2"
own_phases "queued --no-wait-stage" "$W/n.err" 3 nowait
if wait_for 60 '[ -f "$W/revive_global_snapshot_$JOB.ckpt/3/snapshot.meta" ]'; then
    consistent "$W/revive_global_snapshot_$JOB.ckpt/3" 2
else
    fail "sequence 3 did not commit"
fi
pass "a --no-wait-stage request queued behind another: answered by its own snapshot, with its own phases"

kill -TERM $JOB
job_gone $JOB 60 || { fail "the job did not end within 60 s of SIGTERM"; kill -KILL $JOB; }
wait $JOB 2>/dev/null
wait_no_strays
finish
