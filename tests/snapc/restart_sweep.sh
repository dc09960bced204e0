#!/bin/bash
# A restart sweeps the partial images a killed job left in shared storage (newuser9 F6): mpirun
# killed with -9 while its ranks copied sequence 1 left their temporary images
# (.rank_N.img.tmp.PID) in the sequence directory for good: nothing swept them (the job's own end
# does, but a killed coordinator has none). Fake ranks: sequence 0 commits, partial images of
# writers that are gone are put into sequence 1 (as killed writers leave them), the coordinator
# is killed -9; restart-mpi of sequence 0 removes them (said, one line), the job's result is the
# uninterrupted one, sequence 0 stays committed; sequence 1, left with only the mark of its
# staging, goes (newuser9b N5); sequence 2, holding a finished image beside its mark, is
# marked failed with the reason. A partial image of a job still running is not
# touched (its writer holds it; the job's lock says it runs): a restart of the running job's
# sequence 0 beside it leaves it.
. "$(dirname "$0")/lib.sh"
snapc_workdir snapc-restart-sweep
export REVIVE_RESTART_RANK=$FRANK REVIVE_COORD_BIN=$COORD
opts="--iters 4000 --sleep-us 300 --seed 5"
"$COORD" --flavor fake -- "$FLAUNCH" -np 2 "$FRANK" $opts >"$W/native.out" 2>"$W/native.err" ||
    { fail "the uninterrupted run failed"; cat "$W/native.err"; }
sort "$W/native.out" >"$W/native.sorted"

start_job a 2 $opts
jd=$W/revive_global_snapshot_$JOB.ckpt
expect_rc 0 "sequence 0" "$CKPT" $JOB
mkdir -m 700 "$jd/1"
dd if=/dev/zero of="$jd/1/.rank_0.img.tmp.999998" bs=64k count=32 status=none
dd if=/dev/zero of="$jd/1/.rank_1.img.tmp.999999" bs=64k count=32 status=none
chmod 600 "$jd"/1/.rank_*
echo "h1 1" >"$jd/1/staging.active"   # the coordinator's mark of a staging in progress
# sequence 2: the mark and an image a rank had finished copying (the others' were partial)
mkdir -m 700 "$jd/2"
dd if=/dev/zero of="$jd/2/rank_0.img" bs=64k count=4 status=none
echo "h1 1" >"$jd/2/staging.active"; chmod 600 "$jd"/2/*
# a sequence whose ranks were writing their images into their caches when the job was killed:
# nothing in it but the coordinator's mark of that (writing.active)
mkdir -m 700 "$jd/3"
echo "h1 1" >"$jd/3/writing.active"
# and one whose rank 0 had written its whole image there (a job without node-local caches)
mkdir -m 700 "$jd/4"
dd if=/dev/zero of="$jd/4/rank_0.img" bs=64k count=4 status=none
echo "h1 1" >"$jd/4/writing.active"; chmod 600 "$jd"/4/*
kill -KILL $JOB
job_gone $JOB 20 || fail "the coordinator did not end"
wait $JOB 2>/dev/null
wait_no_strays
"$RESTART" "$jd/0" >"$W/r.out" 2>"$W/r.err"; rc=$?
[ $rc = 0 ] || { fail "restart-mpi: status $rc"; cat "$W/r.err"; }
sort "$W/r.out" >"$W/r.sorted"
cmp -s "$W/native.sorted" "$W/r.sorted" || { fail "restarted result differs"; cat "$W/r.out"; }
left=$(ls -A "$jd/1" 2>/dev/null | grep tmp)
[ -z "$left" ] || fail "the killed job's partial images stay after the restart: $left"
grep -q "removed 2 partial images (4 MB) that the job restarted from left in $jd when it ended during a copy" "$W/r.err" ||
    { fail "the restart does not say it removed them"; grep -i partial "$W/r.err"; }
# nothing but its staging mark left: the sequence that never finished goes with it (newuser9b N5:
# ckpt-info listed it for good, "not committed (never finished, or failed)")
[ -e "$jd/1" ] && fail "sequence 1, left with only its staging mark, stays: $(ls -A "$jd/1" | tr '\n' ' ')"
[ -e "$jd/3" ] && fail "sequence 3, left with only its mark of images being written, stays: $(ls -A "$jd/3" | tr '\n' ' ')"
[ -e "$jd/4/writing.active" ] && fail "sequence 4 keeps writing.active after the restart"
grep -q "the job ended while this sequence was being written" "$jd/4/staging.failed" 2>/dev/null ||
    fail "sequence 4 is not marked failed with the reason: $(ls -A "$jd/4" | tr '\n' ' ')"
expect_rc 0 "ckpt-info of sequence 0" "$INFO" "$jd/0"
pass "a restart removes the partial images its killed parent job left in shared storage (said)"

# sequence 2 holds more than its mark: the restart marks it failed, saying why (newuser9b N5)
[ -e "$jd/2/staging.active" ] && fail "sequence 2 keeps staging.active after the restart: $(ls -A "$jd/2" | tr '\n' ' ')"
grep -q "the job ended while this sequence staged" "$jd/2/staging.failed" 2>/dev/null ||
    fail "sequence 2 is not marked failed with the reason: $(ls -A "$jd/2" | tr '\n' ' ')"
grep -q "marked sequence 2 of $jd failed: the job ended while it staged" "$W/r.err" ||
    { fail "the restart does not say it marked sequence 2 failed"; grep -i staging "$W/r.err"; }
"$INFO" "$jd" >"$W/i.out" 2>&1
grep -q "the job ended while this sequence staged" "$W/i.out" ||
    { fail "ckpt-info of the job directory does not give sequence 2's reason"; cat "$W/i.out"; }
pass "a restart marks the sequence its killed parent job was staging failed, with the reason"

# a running job's partial image (its writer alive) stays, whoever restarts beside it
start_job b 2 --iters $UNTIL_KILLED --sleep-us 300
jb=$JOB
jdb=$W/revive_global_snapshot_$jb.ckpt
expect_rc 0 "sequence 0 of job b" "$CKPT" $jb
mkdir -m 700 "$jdb/1"
dd if=/dev/zero of="$jdb/1/.rank_0.img.tmp.999997" bs=64k count=4 status=none
printf '%s %s\n' "$(hostname)" $jb >"$jdb/1/staging.active"
"$RESTART" --showme "$jdb/0" >/dev/null 2>&1
( REVIVE_RESTART_RANK=$FRANK timeout 20 "$RESTART" "$jdb/0" >"$W/rb.out" 2>"$W/rb.err" ) &
rp=$!
sleep 3
kill -TERM $rp 2>/dev/null; wait $rp 2>/dev/null
[ -e "$jdb/1/.rank_0.img.tmp.999997" ] || fail "a restart beside the running job b removed its partial image"
[ -e "$jdb/1/staging.active" ] && [ ! -e "$jdb/1/staging.failed" ] ||
    fail "a restart beside the running job b touched its staging mark: $(ls -A "$jdb/1" | tr '\n' ' ')"
kill -TERM $jb; wait $jb 2>/dev/null
wait_no_strays 30
pass "a running job's partial image stays"
finish
