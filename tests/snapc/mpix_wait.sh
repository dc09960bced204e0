#!/bin/bash
# MPIX_Checkpoint waits for the commit of its snapshot (node-local first) without hanging,
# with fake ranks:
#   - a ckpt-mpirun request made while every rank waits in the call (the copy to shared storage
#     held by the fault point filem-stage-hold) is queued, and once the copy goes on the call
#     returns 0 on every rank, the queued request commits the next sequence, the job ends 0;
#   - the coordinator killed while the ranks wait in the call (its commit held by
#     snapc-commit-hold): no rank is left waiting (the launcher and the ranks go with the
#     coordinator; a rank whose call returned before got an error, never 0).
. "$(dirname "$0")/lib.sh"
snapc_workdir snapc-mpix-wait

# waiting NAME: how many ranks of job NAME said they wait in MPIX_Checkpoint for the commit
waiting() { grep -c "MPIX_Checkpoint waits" "$W/$1.err"; }

export REVIVE_FAULT=filem-stage-hold REVIVE_STAGE_HOLD=$W/a.hold
# the ranks wait before MPI_Finalize until a.end exists: the queued request is answered while
# the job surely runs (the 160 steps after the call were over first at load 7-9, "the job ended
# before the snapshot could be taken", 2 of 3 runs)
start_job a 2 --iters 200 --sleep-us 300 --mpix 40 --end-file "$W/a.end"
unset REVIVE_FAULT REVIVE_STAGE_HOLD
jd=$W/revive_global_snapshot_$JOB.ckpt
wait_for 120 '[ "$(waiting a)" = 2 ] || grep -q "MPIX_Checkpoint:" "$W/a.out"' ||
    fail "the ranks did not reach MPIX_Checkpoint: $(cat "$W/a.err")"
grep "MPIX_Checkpoint:" "$W/a.out" && fail "MPIX_Checkpoint returned while its copy was held"
"$CKPT" --wait --status "$JOB" >"$W/q.out" 2>"$W/q.err" & req=$!
wait_for 60 'grep -q "Queued" "$W/q.err"' || fail "the request during the wait was not queued: $(cat "$W/q.err")"
touch "$W/a.hold"
wait $req || fail "the request made during the wait: status $?: $(cat "$W/q.err")"
touch "$W/a.end"
[ "$(grep -c "MPIX_Checkpoint: 0 flag=0" "$W/a.out")" = 2 ] || fail "MPIX_Checkpoint: $(cat "$W/a.out")"
job_gone $JOB 120 || fail "job a did not end"
wait $JOB; st=$?
[ $st = 0 ] || fail "job a: status $st"
[ -f "$jd/0/snapshot.meta" ] && [ -f "$jd/1/snapshot.meta" ] || fail "sequences 0 and 1 not both committed: $(ls "$jd")"
wait_no_strays
pass "a request during MPIX_Checkpoint's wait for the commit is queued; both commit, the job ends 0"

export REVIVE_FAULT=snapc-commit-hold REVIVE_COMMIT_HOLD=$W/b.hold
start_job b 2 --iters 200 --sleep-us 300 --mpix 40
unset REVIVE_FAULT REVIVE_COMMIT_HOLD
wait_for 120 '[ "$(waiting b)" = 2 ] && grep -q "holds until" "$W/b.err" || grep -q "MPIX_Checkpoint:" "$W/b.out"' ||
    fail "the ranks did not wait in MPIX_Checkpoint: $(cat "$W/b.err")"
grep "MPIX_Checkpoint:" "$W/b.out" && fail "MPIX_Checkpoint returned while the commit was held"
ranks=$(pgrep -f -- "--ready $W/b.ready" | while read -r p; do [ "$(cat /proc/$p/comm 2>/dev/null)" = fake_rank ] && echo $p; done)
kill -KILL $JOB
wait $JOB 2>/dev/null
# the launcher goes with its coordinator (PR_SET_PDEATHSIG), and the ranks with it: none may
# be left waiting, and a rank that returned from the call first got an error, never 0
for p in $ranks; do job_gone $p 120 || fail "rank pid $p still runs 120 s after the coordinator was killed"; done
grep "MPIX_Checkpoint: 0 " "$W/b.out" && fail "MPIX_Checkpoint returned 0 for a snapshot never committed"
if grep -q "MPIX_Checkpoint: [1-9]" "$W/b.out"; then
    grep -q "the job's coordinator went away before snapshot sequence 0 was committed\|lost the connection" "$W/b.err" ||
        fail "no word of the lost coordinator: $(cat "$W/b.err")"
fi
wait_no_strays
pass "the coordinator killed during the wait: no rank is left waiting, none returned 0 ($(grep -c "MPIX_Checkpoint:" "$W/b.out") returned an error before the job ended)"
finish
