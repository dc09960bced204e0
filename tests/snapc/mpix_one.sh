#!/bin/bash
# MPIX_Checkpoint in a job of one rank returns after a snapshot that holds the call (issue 7):
# a checkpoint that ckpt-mpirun asked for and whose capture was over before the call came
# answered the call (the first epoch to end after the request did), so the call returned
# "continue" with no snapshot of its own: a restart from the newest snapshot did not come back
# inside it. Fake ranks, one rank: rank 0's capture held by a file (fake_rank --hold, which says
# when it waits); ckpt-mpirun's checkpoint held there; then the rank calls MPIX_Checkpoint
# (--mpix-file: it waits outside MPI until told); the hold is let go. ckpt-mpirun gets sequence
# 0; the call must take a snapshot of its own (sequence 1) before it returns.
. "$(dirname "$0")/lib.sh"
snapc_workdir snapc-mpix-one

touch "$W/hold"
start_job a 1 --iters 400 --sleep-us 300 --mpix 5 --mpix-file "$W/call" --hold "0:capture:$W/hold"
wait_for 60 'grep -q "MPIX_Checkpoint waits for" "$W/a.err"' || fail "the rank did not reach its call"
"$CKPT" $JOB >"$W/t.out" 2>"$W/t.err" &
ck=$!; jobs_started="$jobs_started $ck"
wait_for 60 '[ -e "$W/hold.in" ]' || fail "ckpt-mpirun's capture did not begin: $(cat "$W/t.err")"
touch "$W/call"
wait_for 60 'grep -q "MPIX_Checkpoint called" "$W/a.err"' || fail "the rank did not call MPIX_Checkpoint"
sleep 0.3 # the request is made at once, then the call parks at the closed gate
rm -f "$W/hold"
wait $ck || fail "ckpt-mpirun: status $?: $(tail -n 2 "$W/t.err")"
ref=$(tail -n1 "$W/t.out")
jd=$(dirname "${ref:-/nonexistent/0}")
wait_for 60 'grep -q "MPIX_Checkpoint: " "$W/a.out"' ||
    { fail "MPIX_Checkpoint did not return: $(tail -n 3 "$W/a.err")"; kill -KILL $JOB; }
n=$(committed "$jd")
grep -q "MPIX_Checkpoint: 0 flag=0" "$W/a.out" || fail "MPIX_Checkpoint: $(grep MPIX "$W/a.out")"
[ "$n" = 2 ] || fail "$n committed sequence(s) when MPIX_Checkpoint returned, not 2 (ckpt-mpirun's, then the call's own): $(ls "$jd")"
wait $JOB || fail "the job: status $?"
pass "one rank: MPIX_Checkpoint during ckpt-mpirun's capture returns after a snapshot of its own"
finish
