#!/bin/bash
# A rank that ends while its sequence stages (node-local first) stops the coordinator's only loop
# neither while the coordinator asks the other ranks' hosts whether they are silent, nor while it
# copies the rank's image from its own host's cache in its place (diffrev31 R-L9, R-L10).
# A job of 4 fake ranks, the copy of the images held (fault point filem-stage-hold) and the
# coordinator's own copy held too (snapc-selfstage-hold); the launcher is stopped (SIGSTOP) so
# that it does not end the other ranks when rank 1 is killed: they live on, as MPICH's do. The
# coordinator's lines get the time they were written (perl).
#  a. R-L9: rank 1 killed: the coordinator asks the hosts of ranks 0,2,3 (all alive); it takes
#     rank 1 as gone (its "stages the copy of rank 1" line) less than 2 s after it saw rank 1's
#     connection close. Before: 2.5 s every time (the wait ended early only when every other
#     host was silent).
#  b. R-L10: while its copy of rank 1's image holds, the coordinator answers a tool (a
#     ckpt-mpirun, bounded at 30 s: "a checkpoint of this job is in progress"); the launcher continued, it ends ranks 0,2,3 and
#     the coordinator takes up their images too, still during the first copy. Before: the copy
#     ran inside the loop: the tool waited until the copy ended (here: ran out of 30 s), and
#     the other ranks' ends were read only afterwards.
#  Then the copies go on: every image is staged by the coordinator from this host's cache, the
#  sequence commits and verifies.
. "$(dirname "$0")/lib.sh"
snapc_workdir snapc-selfstage-loop
command -v perl >/dev/null || { echo "SKIP: perl is needed to time the coordinator's lines"; exit 77; }

TIMED=1 held_job a 4 REVIVE_FAULT=filem-stage-hold,snapc-selfstage-hold \
    REVIVE_STAGE_HOLD="$W/stage.hold" REVIVE_SELFSTAGE_HOLD="$W/self.hold"
expect_rc 0 "a snapshot (--no-wait-stage, its copy held)" "$CKPT" --no-wait-stage $JOB || finish
[ -f "$jd/0/snapshot.meta" ] && fail "committed while the copy holds"

rank_pid 1 || { fail "no launcher ($LAUNCHER) or rank 1"; finish; }
launcher=$LAUNCHER victim=$RANK_PID
kill -STOP $launcher
kill -KILL $victim

# a. how long the loop took to take rank 1 as gone
wait_for 60 'grep -q "the coordinator stages the copy of rank 1 " "$W/a.err"' ||
    { fail "a: the coordinator did not take rank 1 as gone"; tail -20 "$W/a.err"; }
t1=$(grep -m1 "rank 1's connection closed" "$W/a.err" | cut -d' ' -f1)
t2=$(grep -m1 "the coordinator stages the copy of rank 1 " "$W/a.err" | cut -d' ' -f1)
gap=$(awk -v a="$t1" -v b="$t2" 'BEGIN { printf "%d", (b - a) * 1000 }')
[ -n "$t1" ] && [ "$gap" -lt 2000 ] ||
    { fail "a: rank 1's connection closed at '$t1', taken as gone $gap ms later (2000 at most: every other host is alive)"; grep "rank 1\|silent\|answered" "$W/a.err"; }
grep "connection closed while staging" "$W/a.err" | cut -d' ' -f2- | sed 's/^/    /'
pass "a: rank 1 killed while staging, the other hosts alive: taken as gone $gap ms after its connection closed"

# b. what the loop does while its copy of rank 1's image holds
wait_for 60 'grep -q "copy of rank 1.s image holds until" "$W/a.err"' ||
    fail "b: the coordinator's copy of rank 1 did not hold: $(tail -3 "$W/a.err")"
# a tool's request is answered: here "a checkpoint is in progress" (the coordinator refuses a
# second one), status 1
timeout -k 5 30 "$CKPT" $JOB >"$W/st.out" 2>"$W/st.err"; st=$?
[ $st = 1 ] && grep -q "a checkpoint of this job is in progress (sequence 0)" "$W/st.err" ||
    { fail "b: ckpt-mpirun while the coordinator copies rank 1's image: status $st (124: no answer in 30 s)"; cat "$W/st.err"; }
kill -CONT $launcher
wait_for 60 '[ "$(grep -c "the coordinator stages the copy of rank" "$W/a.err")" = 4 ]' ||
    fail "b: while the first copy holds the coordinator did not take up the other ranks' images: $(grep -c "the coordinator stages the copy of rank" "$W/a.err") of 4"
[ -e "$W/self.hold" ] && fail "b: the hold ended early"
grep -q "image staged by the coordinator" "$W/a.err" && fail "b: an image was staged while the copies held"
pass "b: while its copy of rank 1's image holds, the coordinator answers ckpt-mpirun and reads the other ranks' ends"

touch "$W/self.hold" "$W/stage.hold"
wait_for 120 '[ -f "$jd/0/snapshot.meta" ] || ! kill -0 $JOB 2>/dev/null'
[ -f "$jd/0/snapshot.meta" ] || { fail "the sequence did not commit"; grep -v "^[0-9.]* revive: snapc: step" "$W/a.err" | tail -20; }
[ "$(grep -c "image staged by the coordinator" "$W/a.err")" = 4 ] ||
    fail "not every image was staged by the coordinator: $(grep -c "image staged by the coordinator" "$W/a.err")"
expect_rc 0 "ckpt-info --verify of the sequence" "$INFO" --verify "$jd/0"
job_gone $JOB 60 || fail "the coordinator did not end"
wait_no_strays 30
pass "the coordinator's copies then stage every image: the sequence commits and verifies"
finish
