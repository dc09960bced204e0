#!/bin/bash
# A periodic job (--interval 1, --timeout 12) with a rank stopped (kill -STOP) for several
# intervals: at the default log level its stderr says once, 10 s into the first checkpoint that
# waits on it, which rank is stopped and the kill -CONT that continues it, and the failure once
# (newuser49 L1 and L4: notes and failures alike said at every interval before, or nothing
# until the timeout); continued, a checkpoint commits, and the job's end counts the failures.
. "$(dirname "$0")/lib.sh"
snapc_workdir snapc-stopped-periodic

REVIVE_VERBOSE=1 start_job a 2 --coord --interval 1 --timeout 12 -- --iters $UNTIL_KILLED --sleep-us 500
jd=$W/revive_global_snapshot_$JOB.ckpt
wait_for 120 '[ "$(newest_committed "$jd")" -ge 0 ]' || fail "no first commit in 120 s"
l=$(launcher_of $JOB) || fail "the job has no launcher"
pid=$(fake_rank_of "$l" 1)
[ -n "$pid" ] || { fail "rank 1's process not found"; finish; }
kill -STOP "$pid"
cleanup="kill -CONT $pid 2>/dev/null; $cleanup"
c0=$(newest_committed "$jd")
# three checkpoints or so wait on it (12 s each), each one's note at 10 s
nap 40
kill -CONT "$pid"
wait_for 120 '[ "$(newest_committed "$jd")" -gt "$c0" ]' || fail "no commit once rank 1 was continued"
kill -TERM $JOB; wait $JOB
want="rank 1's process (pid $pid) is stopped (state T: SIGSTOP or a debugger): continue it with kill -CONT $pid"
n=$(grep -cF "$want" "$W/a.err")
[ "$n" = 1 ] || { fail "the stopped rank said $n times on the job's stderr, not once:"; sed 's/^/    /' "$W/a.err"; }
n=$(grep -c "no checkpoint" "$W/a.err")
[ "$n" = 1 ] || { fail "the failure said $n times on the job's stderr, not once:"; grep "no checkpoint" "$W/a.err" | sed 's/^/    /'; }
grep -q "[0-9]* of this job's [0-9]* checkpoints failed ([1-9][0-9]* of them as the one before, said once)" "$W/a.err" ||
    fail "the job's end does not count the failures: $(grep "of this job's" "$W/a.err")"
pass "a rank stopped across periodic checkpoints: said once (kill -CONT $pid), the failure once, counted at the end"
wait_no_strays
finish
