#!/bin/bash
# A periodic job (--interval 1) whose snapshot directory stays full says the failure once, not at
# every interval (newuser49 L4: ~3 long lines per rank at each --ckpt-interval after the
# once-per-job line had said that checkpoints go on failing; src/snapc/coord_failrep.c), at the
# default log level (what the job's stderr shows): one "is not committed" line and at most one
# "staging failed" line per rank while 3 or more checkpoints fail alike; once there is room again
# one line says that checkpoints commit again, and the job's end counts the failures said once.
# Needs to mount a tmpfs (root).
. "$(dirname "$0")/lib.sh"
snapc_workdir snapc-fullrepeat
small_tmpfs 1m

REVIVE_VERBOSE=1 start_job a 2 --coord --dir "$mnt" --interval 1 -- --iters $UNTIL_KILLED --sleep-us 300
jd=$mnt/revive_global_snapshot_$JOB.ckpt
wait_for 120 '[ "$(newest_committed "$jd")" -ge 0 ]' || fail "no first commit in 120 s"
c0=$(newest_committed "$jd")
dd if=/dev/zero of="$mnt/filler" bs=4k 2>/dev/null
wait_for 120 'grep -q "is not committed" "$W/a.err"' || fail "no checkpoint failed on the full directory"
nap 6
rm -f "$mnt/filler"
wait_for 120 '[ "$(newest_committed "$jd")" -gt "$c0" ]' || fail "no commit once there is room"
c1=$(newest_committed "$jd")
nfail=$((c1 - c0 - 1))
[ $nfail -ge 3 ] || echo "note: only $nfail checkpoints failed (3 wanted): the check below proves less"
said=$(grep -c "is not committed" "$W/a.err")
[ "$said" = 1 ] || { fail "$nfail failed checkpoints said $said times, not once:"; grep "is not committed" "$W/a.err" | cut -c1-200 | sed 's/^/    /'; }
for r in 0 1; do
    n=$(grep -c "rank $r: staging failed" "$W/a.err")
    [ "$n" -le 1 ] || fail "rank $r said its staging failure $n times"
done
n=$(grep -c "cannot mark the failed sequence" "$W/a.err")
[ "$n" -le 1 ] || fail "'cannot mark the failed sequence' said $n times"
[ $nfail -lt 2 ] || grep -q "checkpoint $c1 is committed: checkpoints commit again after $nfail failed alike" "$W/a.err" ||
    fail "the recovery is not said: $(grep "commit again" "$W/a.err")"
pass "a full snapshot directory: $nfail failed checkpoints said once ($said), the recovery said"
kill -TERM $JOB; wait $JOB
[ $nfail -lt 2 ] || grep -q "[0-9]* of this job's [0-9]* checkpoints failed ([0-9]* of them as the one before, said once)" "$W/a.err" ||
    fail "the job's end does not count the failures: $(grep "of this job's" "$W/a.err")"
pass "the job's end counts the failed checkpoints"
wait_no_strays
finish
