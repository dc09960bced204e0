#!/bin/bash
# A rank stopped by someone else (kill -STOP, a debugger; review12 LOW-4): ckpt-mpirun's "no
# checkpoint" says that the rank's process is stopped (state T in /proc) and how to continue it
# (kill -CONT PID), as it does for a job stopped by ckpt-mpirun --stop, not only that the rank
# did not answer; continued, the job goes on and is checkpointed.
. "$(dirname "$0")/lib.sh"
snapc_workdir snapc-stoppedrank

start_job a 3 --iters $UNTIL_KILLED --sleep-us 500
l=$(launcher_of $JOB) || fail "the job has no launcher"
pid=$(fake_rank_of "$l" 1)
[ -n "$pid" ] || { fail "rank 1's process not found"; finish; }
kill -STOP "$pid"
wait_for 30 '[ "$(cut -d" " -f3 "/proc/$pid/stat")" = T ]' || fail "rank 1 (pid $pid) did not stop"
expect_rc 1 "a request while rank 1 is stopped" "$CKPT" --timeout 2 $JOB &&
    err_has "no checkpoint: the process of rank 1 (pid $pid) is stopped (state T in /proc/$pid/stat: SIGSTOP or a debugger) and was not continued (kill -CONT $pid), so rank 1 did not answer the checkpoint request within 2 s"
kill -0 $JOB || fail "the job ended after the timeout"
pass "a stopped rank: no checkpoint, its process named stopped with kill -CONT PID"
kill -CONT "$pid"
expect_rc 0 "a snapshot once rank 1 is continued" "$CKPT" $JOB && consistent "$(tail -n1 "$W/cmd.out")" 3
pass "continued, the job is checkpointed"
kill -TERM $JOB; wait $JOB
wait_no_strays
finish
