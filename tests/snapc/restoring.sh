#!/bin/bash
# ckpt-mpirun on a job that restart-mpi started and whose ranks are still being restored (they
# connect to the coordinator only once their images are read back: a big image takes long).
# Fake ranks whose restore takes 16 s (rank 0) and 24 s (rank 1), FAKE_RESTORE_SLOW. Each answer
# must say the job is being restored and how many of its ranks are back, and never that its ranks
# run MPI without Revive's layer (newuser14 F3: said 10 s after the start, no rank back yet):
#  1. ckpt-mpirun PID, no rank back yet (11 s after the ranks began): refused, status 1, says the
#     restore, "0 of 2 ranks are back" and that --wait waits for them;
#  2. ckpt-mpirun --wait --term PID, asked then: says at once that it waits for the restore, then
#     takes the snapshot once both ranks are back (status 0), which ends the job;
#  3. ckpt-mpirun --timeout 2 PID once rank 0 is back: "1 of 2 ranks are back", rank 1 named, not
#     "a host that cannot be reached" (the request's bound is passed);
#  4. the snapshot --wait took restarts and finishes with the uninterrupted run's answer;
#  5. ckpt-mpirun --wait PID on a restart whose ranks all fail their (slow) restore: the job's end
#     answers it, saying no rank came back, not the ranks' MPI library.
. "$(dirname "$0")/lib.sh"
snapc_workdir snapc-restoring
export REVIVE_RESTART_RANK=$FRANK REVIVE_COORD_BIN=$COORD

opts="--iters 20000 --sleep-us 300 --seed 5"
"$COORD" --flavor fake -- "$FLAUNCH" -np 2 "$FRANK" $opts >"$W/native.out" 2>"$W/native.err" ||
    { fail "the uninterrupted run failed"; cat "$W/native.err"; }
sort "$W/native.out" | grep done >"$W/native.sorted"
[ "$(grep -c done "$W/native.sorted")" = 2 ] || fail "uninterrupted: $(cat "$W/native.out")"

start_job a 2 $opts
expect_rc 0 "--term" "$CKPT" --term $JOB
ref=$(tail -n1 "$W/cmd.out")
wait $JOB
jd=${ref%/*}

# MSG WHAT FILE: FILE says the restore with its count, and nothing of a foreign MPI
says_restore() {
    grep -qF "the job is being restored" "$3" || fail "$2: the restore is not said: $(cat "$3")"
    grep -qF "$1" "$3" || fail "$2: lacks '$1': $(cat "$3")"
    if grep -qE "MPI\.jl|without Revive's layer|reached MPI_Init|cannot be reached" "$3"; then
        fail "$2: blames the ranks' MPI or a host: $(cat "$3")"
    fi
}

FAKE_RESTORE_SLOW=0:16,1:24 "$RESTART" "$ref" >"$W/r.out" 2>"$W/r.err" &
rp=$!; jobs_started="$jobs_started $rp"
wait_exec $rp
wait_for 30 '[ -e "$(echo "$jd"/.restart.$rp/begun.0)" ]' || fail "rank 0 did not begin its restore"
rdir=$jd/.restart.$rp
nap 11

# 1. no --wait, no rank back
expect_rc 1 "ckpt-mpirun during the restore" "$CKPT" $rp
echo "said: $(cat "$W/cmd.err")"
says_restore "0 of 2 ranks are back" "no --wait, none back" "$W/cmd.err"
grep -qF -- "--wait" "$W/cmd.err" || fail "--wait is not offered: $(cat "$W/cmd.err")"
[ "$(grep -c . "$W/cmd.err")" = 1 ] || fail "more than one line: $(cat "$W/cmd.err")"
pass "ckpt-mpirun PID while no rank is back: the restore said, 0 of 2, --wait offered"

# 2. --wait --term, asked now
"$CKPT" --wait --term $rp >"$W/w.out" 2>"$W/w.err" &
wp=$!
# 3. once rank 0 is back, a request bounded by 2 s
wait_for 30 'grep -q "rank 0 restored" "$rdir/restored" 2>/dev/null' || fail "rank 0 was not restored"
nap 1
expect_rc 1 "ckpt-mpirun --timeout 2 with rank 0 back" "$CKPT" --timeout 2 $rp
echo "said: $(cat "$W/cmd.err")"
says_restore "1 of 2 ranks are back" "no --wait, rank 0 back" "$W/cmd.err"
grep -qE "not back: rank 1\b" "$W/cmd.err" || fail "rank 1 is not named: $(cat "$W/cmd.err")"
pass "ckpt-mpirun --timeout 2 PID with rank 0 back: 1 of 2, rank 1 named"

wait $wp; rc=$?
[ $rc = 0 ] || fail "--wait --term: status $rc: $(cat "$W/w.err")"
echo "said: $(cat "$W/w.err")"
says_restore "0 of 2 ranks are back" "--wait" "$W/w.err"
wref=$(tail -n1 "$W/w.out")
wait $rp || fail "the restarted job ended with status $?: $(cat "$W/r.err")"
[ -f "$wref/snapshot.meta" ] || fail "--wait took no snapshot: $(cat "$W/w.out")"
pass "ckpt-mpirun --wait --term during the restore: said, then the snapshot once every rank was back"

# 4. the snapshot taken after the wait gives the uninterrupted answer
"$RESTART" "$wref" >"$W/r2.out" 2>"$W/r2.err" || fail "restart of $wref: $(cat "$W/r2.err")"
sort "$W/r.out" "$W/r2.out" | grep done >"$W/r2.sorted"
cmp -s "$W/native.sorted" "$W/r2.sorted" || { fail "restarted answer differs"; diff "$W/native.sorted" "$W/r2.sorted"; }
pass "the snapshot --wait took restarts to the uninterrupted answer"

# 5. --wait on a restart whose ranks all fail their restore before any is back
FAKE_RESTORE_SLOW=0:4,1:4 FAKE_RESTORE_FAIL=1 "$RESTART" "$ref" >"$W/f.out" 2>"$W/f.err" &
fp=$!; jobs_started="$jobs_started $fp"
wait_exec $fp
expect_rc 1 "ckpt-mpirun --wait on a restart that fails" "$CKPT" --wait $fp
echo "said: $(cat "$W/cmd.err")"
grep -qF "the restarted job ended before any of its 2 ranks was back" "$W/cmd.err" ||
    fail "the end is not said: $(cat "$W/cmd.err")"
if grep -qE "MPI\.jl|without Revive's layer" "$W/cmd.err"; then
    fail "a failed restore blamed on the ranks' MPI: $(cat "$W/cmd.err")"
fi
wait $fp
pass "ckpt-mpirun --wait on a restart whose ranks failed: the end said, no foreign MPI"
finish
