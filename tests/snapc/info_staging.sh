#!/bin/bash
# ckpt-info and restart-mpi on a sequence whose images are being copied to shared storage
# (node-local first, issue 9 point 2: "ckpt-info shows the state of each sequence (staging,
# committed, failed)"). newuser9 F1: such a sequence was shown as "not committed (no
# snapshot.meta): it was never finished or it failed" (status 3, JSON "uncommitted"). The copy
# is held (fault point filem-stage-hold) after a `--no-wait-stage` snapshot:
#   - ckpt-info REF says "staging" (status 4, ckpt-info(1)), --json "state": "staging", the
#     listing of the snapshot directory says staging (status 4: none committed yet);
#   - restart-mpi refuses it, saying it is staging;
#   - once the hold ends: committed (status 0), the mark gone;
#   - a second sequence held, then the job killed (its coordinator gone): the mark stays but
#     nobody copies: "not committed" (status 3), not staging;
#   - a sequence whose ranks still write their images (a capture held, fake_rank --hold) shows
#     as "writing" (status 4, --json "writing", the listing), restart-mpi refuses it saying so,
#     and it commits once written (closing31: it showed "not committed").
. "$(dirname "$0")/lib.sh"
snapc_workdir snapc-info-staging

export REVIVE_FAULT=filem-stage-hold REVIVE_STAGE_HOLD=$W/stage.hold
start_job s 2 --coord -- --iters $UNTIL_KILLED --sleep-us 300
unset REVIVE_FAULT REVIVE_STAGE_HOLD
jd=$W/revive_global_snapshot_$JOB.ckpt
expect_rc 0 "a snapshot of job s (back at 'recovered')" "$CKPT" --no-wait-stage $JOB
[ -f "$jd/0/snapshot.meta" ] && fail "committed while the copy holds"

"$INFO" "$jd/0" >"$W/i.out" 2>"$W/i.err"; rc=$?
[ $rc = 4 ] || fail "ckpt-info of the sequence staging: status $rc, expected 4"
grep -q "^  staging: not committed yet, the running job's agents are copying" "$W/i.out" ||
    fail "ckpt-info does not show it staging: $(cat "$W/i.out")"
[ "$(grep -c . "$W/i.err")" = 1 ] && grep -qF "$jd/0 is staging: the running job's agents are copying its images" "$W/i.err" ||
    fail "ckpt-info's message: $(cat "$W/i.err")"
grep -q "never finished\|it failed" "$W/i.out" "$W/i.err" && fail "ckpt-info says it may have failed"
"$INFO" --json "$jd/0" >"$W/j.out" 2>/dev/null; rc=$?
[ $rc = 4 ] && grep -q '"state":"staging"' "$W/j.out" ||
    fail "ckpt-info --json of the sequence staging: status $rc, $(cat "$W/j.out")"
"$INFO" "$jd" >"$W/d.out" 2>"$W/d.err"; rc=$?
[ $rc = 4 ] && grep -q "^  staging: not committed yet" "$W/d.out" &&
    grep -q "holds no committed snapshot yet: 1 sequence is staging" "$W/d.err" ||
    { fail "ckpt-info of the snapshot directory: status $rc"; cat "$W/d.out" "$W/d.err"; }
"$INFO" --json "$jd" >"$W/dj.out" 2>/dev/null
grep -q '{"seq":0,"state":"staging"}' "$W/dj.out" || fail "ckpt-info --json of the directory: $(cat "$W/dj.out")"
"$RESTART" --showme "$jd/0" >"$W/r.out" 2>"$W/r.err"; rc=$?
[ $rc = 1 ] && [ "$(grep -c . "$W/r.err")" = 1 ] &&
    grep -qF "sequence 0 of $jd is staging: the running job's agents are copying its images there, it is not committed yet" "$W/r.err" ||
    { fail "restart-mpi of the sequence staging: status $rc"; cat "$W/r.err"; }
pass "a sequence being copied shows as staging (ckpt-info text, --json, listing, status 4; restart-mpi refuses it so)"

touch "$W/stage.hold"
wait_for 120 '[ -f "$jd/0/snapshot.meta" ]' || fail "the sequence did not commit: $(cat "$W/s.err")"
wait_for 20 '[ ! -e "$jd/0/staging.active" ]' || fail "the staging mark stays after the commit"
expect_rc 0 "ckpt-info of the committed sequence" "$INFO" "$jd/0"
"$INFO" --json "$jd/0" 2>/dev/null | grep -q '"state":"committed"' || fail "--json after the commit"
pass "once copied, the sequence is committed and the mark gone"

# the coordinator killed while its agents copy: nobody copies any more, not "staging"
rm -f "$W/stage.hold"
expect_rc 0 "a second snapshot (its copy held)" "$CKPT" --no-wait-stage $JOB
wait_for 20 '[ -e "$jd/1/staging.active" ]' || fail "no staging mark for sequence 1"
kill -KILL $JOB
job_gone $JOB 20 || fail "the coordinator did not end"
"$INFO" "$jd/1" >"$W/k.out" 2>"$W/k.err"; rc=$?
[ $rc = 3 ] && grep -q "is not committed (no snapshot.meta)" "$W/k.err" ||
    { fail "ckpt-info after the coordinator died while staging: status $rc"; cat "$W/k.out" "$W/k.err"; }
"$INFO" "$jd" >"$W/k2.out" 2>&1
grep -A1 "^$jd/1\$" "$W/k2.out" | grep -q "not committed (never finished" ||
    { fail "the listing after the coordinator died:"; cat "$W/k2.out"; }
touch "$W/stage.hold"
wait_no_strays 60
pass "a staging whose coordinator died is 'not committed', not staging"

# a sequence whose ranks are still writing their images (rank 1's capture held: fake_rank
# --hold) shows as being written, not "not committed" (closing31's limit); committed once written
touch "$W/cap.hold"
start_job w 2 --coord -- --iters $UNTIL_KILLED --sleep-us 300 --hold 1:capture:"$W/cap.hold"
jw=$W/revive_global_snapshot_$JOB.ckpt
"$CKPT" $JOB >"$W/w.ck.out" 2>"$W/w.ck.err" &
ck=$!
wait_for 60 '[ -e "$W/cap.hold.in" ]' || fail "rank 1's capture did not hold"
"$INFO" "$jw/0" >"$W/w.out" 2>"$W/w.err"; rc=$?
[ $rc = 4 ] && grep -q "^  writing: not committed yet, the running job's ranks are writing its images" "$W/w.out" &&
    grep -qF "$jw/0 is being written: the running job's ranks are writing its images" "$W/w.err" ||
    { fail "ckpt-info of a sequence being written: status $rc"; cat "$W/w.out" "$W/w.err"; }
"$INFO" --json "$jw/0" 2>/dev/null | grep -q '"state":"writing"' || fail "ckpt-info --json of a sequence being written"
"$INFO" "$jw" >"$W/wd.out" 2>"$W/wd.err"; rc=$?
[ $rc = 4 ] && grep -q "^  writing: not committed yet" "$W/wd.out" &&
    grep -q "holds no committed snapshot yet: 1 sequence is being written" "$W/wd.err" ||
    { fail "ckpt-info of the directory while a sequence is being written: status $rc"; cat "$W/wd.out" "$W/wd.err"; }
"$RESTART" --showme "$jw/0" >"$W/wr.out" 2>"$W/wr.err"; rc=$?
[ $rc = 1 ] && grep -qF "sequence 0 of $jw is being written: the running job's ranks are writing its images" "$W/wr.err" ||
    { fail "restart-mpi of a sequence being written: status $rc"; cat "$W/wr.err"; }
rm -f "$W/cap.hold"
wait $ck || { fail "the held checkpoint: status $?"; cat "$W/w.ck.err"; }
wait_for 60 '[ -f "$jw/0/snapshot.meta" ]' || fail "the sequence did not commit"
[ -e "$jw/0/writing.active" ] && fail "the writing mark stays after the commit"
expect_rc 0 "ckpt-info of the committed sequence" "$INFO" "$jw/0"
kill -TERM $JOB; wait $JOB
wait_no_strays 60
pass "a sequence being written shows so (ckpt-info text, --json, listing, status 4; restart-mpi refuses it so); committed once written"
finish
