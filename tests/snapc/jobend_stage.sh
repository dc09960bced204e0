#!/bin/bash
# A job that ends while its last snapshot is still being copied to shared storage (node-local
# first: the ranks run on at "recovered", before the commit). Fresh-clone CI (localdir.sh: "job
# b ended normally but its cached images stay"): a rank finished MPI_Finalize and exited before
# the commit's notice came, so nobody dropped its node's cache. Forced here, with fake ranks:
#   - the coordinator holds its commit (fault point snapc-commit-hold) until every rank has
#     reached the end of its work (--end-file) and printed its last line: the ranks wait in
#     MPI_Finalize for the outcome, the sequence commits, the job ends with status 0 and no
#     cached image of it is left;
#   - the copy to shared storage holds (filem-stage-hold) until the coordinator's bound on it
#     (REVIVE_CAPTURE_TIMEOUT) fails the sequence: the ranks waiting in MPI_Finalize hear the
#     failure and end (no 30-minute wait), the sequence is marked failed, its node-local copies
#     go at the failure (they can never be restarted; before, they stayed until the job's end
#     removed them and said so: mend42/43 e1), and the job's end has none left to remove; the
#     agents whose held copy then finds its source gone say so as such, not as a staging error;
#     restart-mpi of the sequence while it stages says the job still runs and copies it.
. "$(dirname "$0")/lib.sh"
snapc_workdir snapc-jobend-stage
L=$TMPDIR/revive-local-$(id -u)

# nranks_done NAME: how many ranks of job NAME printed their last line (in MPI_Finalize)
nranks_done() { grep -c '^rank [0-9]* done:' "$W/$1.out" 2>/dev/null; }

# --- the commit comes after every rank reached MPI_Finalize
export REVIVE_FAULT=snapc-commit-hold REVIVE_COMMIT_HOLD=$W/commit.hold
start_job c 2 --coord -- --iters 100 --sleep-us 300 --end-file "$W/c.end"
unset REVIVE_FAULT REVIVE_COMMIT_HOLD
jd=$W/revive_global_snapshot_$JOB.ckpt
expect_rc 0 "a snapshot of job c (back at 'recovered')" "$CKPT" --no-wait-stage $JOB
wait_for 120 'grep -q "holds until" "$W/c.err"' || fail "the commit did not hold: $(cat "$W/c.err")"
[ -f "$jd/0/snapshot.meta" ] && fail "committed before the hold ended"
touch "$W/c.end"
wait_for 120 '[ "$(nranks_done c)" = 2 ]' || fail "the ranks did not reach MPI_Finalize: $(cat "$W/c.out")"
touch "$W/commit.hold"
job_gone $JOB 120 || fail "job c did not end once its snapshot committed"
wait $JOB; rc=$?
[ $rc = 0 ] || { fail "job c: exit status $rc"; cat "$W/c.err"; }
[ -f "$jd/0/snapshot.meta" ] || fail "job c's snapshot is not committed: $(cat "$W/c.err")"
left=$(find "$L/$(basename "$jd")" -name 'rank_*.img' 2>/dev/null)
[ -z "$left" ] || fail "job c ended normally but its cached images stay: $left"
grep -q "MPI_Finalize waits until snapshot sequence 0" "$W/c.err" ||
    fail "no rank said it waited in MPI_Finalize: $(cat "$W/c.err")"
if grep -q "finalize_wait\|MPI_Finalize returns" "$W/c.err"; then
    fail "a rank's wait in MPI_Finalize failed:"; grep "finalize_wait\|MPI_Finalize returns" "$W/c.err"
fi
"$INFO" --verify "$jd/0" >"$W/verify.out" 2>&1 || { fail "the snapshot does not verify"; cat "$W/verify.out"; }
wait_no_strays
pass "ranks in MPI_Finalize wait for the commit of the sequence staging; then its cache goes"

# --- the copy to shared storage fails (out of time) while the ranks wait in MPI_Finalize
# (the bound: 10 s; the ranks reach MPI_Finalize within a second of the snapshot's start)
export REVIVE_FAULT=filem-stage-hold REVIVE_STAGE_HOLD=$W/stage.hold REVIVE_CAPTURE_TIMEOUT=10
start_job d 2 --coord -- --iters 100 --sleep-us 300 --end-file "$W/d.end"
unset REVIVE_FAULT REVIVE_STAGE_HOLD REVIVE_CAPTURE_TIMEOUT
jd=$W/revive_global_snapshot_$JOB.ckpt
expect_rc 0 "a snapshot of job d (back at 'recovered')" "$CKPT" --no-wait-stage $JOB
# restart-mpi of the sequence still staging: not "never finished or it failed" but that it is
# staging (the sweep of session 19; newuser9 F1), unless its bound ran out meanwhile (load)
"$RESTART" --showme "$jd/0" >"$W/stg.out" 2>"$W/stg.err"; rc=$?
if [ ! -e "$jd/0/staging.failed" ]; then
    [ $rc = 1 ] && [ "$(grep -c . "$W/stg.err")" = 1 ] &&
        grep -qF "sequence 0 of $jd is staging: the running job's agents are copying its images there" "$W/stg.err" ||
        { fail "restart-mpi of a sequence staging: status $rc"; cat "$W/stg.err"; }
fi
# a writer that died mid-copy (its host lost, review9 F2) left its partial image: once the
# job has ended nobody can finish it, and it would hold shared storage for good
dd if=/dev/zero of="$jd/0/.rank_1.img.tmp.999999" bs=64k count=16 status=none
touch "$W/d.end"
wait_for 120 '[ "$(nranks_done d)" = 2 ]' || fail "the ranks did not reach MPI_Finalize: $(cat "$W/d.out")"
wait_for 180 'grep -q "did not copy its image" "$W/d.err"' ||
    fail "the staging was not given up: $(cat "$W/d.err")"
# its node-local copies went at the failure (the coordinator's own host's, before it said it)
[ -z "$(find "$L/$(basename "$jd")" -name 'rank_*.img' 2>/dev/null)" ] ||
    fail "job d's node-local copies of its failed sequence stay after its failure: $(find "$L/$(basename "$jd")" -name 'rank_*.img' | tr '\n' ' ')"
# the agents still hold in their copy (the fault point): once it ends they hear the failure
touch "$W/stage.hold"
job_gone $JOB 120 || fail "job d did not end after its staging failed"
wait $JOB; rc=$?
[ $rc = 0 ] || { fail "job d: exit status $rc"; cat "$W/d.err"; }
[ -f "$jd/0/snapshot.meta" ] && fail "job d's sequence is committed"
[ -e "$jd/0/.rank_1.img.tmp.999999" ] && fail "a dead writer's partial image stays after the job"
grep -q "removed 1 partial image" "$W/d.err" || fail "the coordinator did not say it removed the partial image"
# its node-local copies can never be restarted: gone at the failure (newuser7 F3), nothing left
# for the job's end to remove or keep; the held copies that found their source gone said so as
# such (no "staging failed: ... No such file or directory")
[ -z "$(find "$L/$(basename "$jd")" -name 'rank_*.img' 2>/dev/null)" ] ||
    fail "job d's node-local copies of its failed sequence stay after its end"
grep -q "keeps the images of checkpoint\|removed from this node's cache" "$W/d.err" &&
    fail "the job's end speaks of failed images it removed or kept: $(grep -m1 "keeps the images\|removed from this node's cache" "$W/d.err")"
grep "staging failed: .*No such file or directory" "$W/d.err" &&
    fail "a copy whose source went with the failed sequence is said as a staging error"
"$INFO" "$jd" >"$W/info.out" 2>&1
grep -qi "failed" "$W/info.out" || { fail "ckpt-info does not show the failed sequence"; cat "$W/info.out"; }
if grep -q "MPI_Finalize returns" "$W/d.err"; then
    fail "a rank waited in MPI_Finalize until its bound:"; grep "MPI_Finalize returns" "$W/d.err"
fi
wait_no_strays
pass "ranks in MPI_Finalize hear that the sequence staging failed and end; its cached images go"
finish
