#!/bin/bash
# A checkpoint whose capture takes long (rank 1 held while writing its image: fake_rank --hold),
# no rank stopped: ckpt-mpirun says, 40 s after its request and not before (a checkpoint merely
# slow at 10 s keeps its one-line answer), which rank it waits for, in which step (capture) and
# when it gives up (REVIVE_CAPTURE_TIMEOUT), where it was silent up to that bound (1800 s;
# newuser49 L1, coord_waitnote.c); not a warning on the job's stderr; let go, the same request
# commits a consistent snapshot.
. "$(dirname "$0")/lib.sh"
snapc_workdir snapc-capture-note

touch "$W/hold"
REVIVE_VERBOSE=1 start_job a 3 --iters $UNTIL_KILLED --sleep-us 300 --hold "1:capture:$W/hold"
( clean_exec "$CKPT" $JOB ) >"$W/ck.out" 2>"$W/ck.err" &
CK=$!
wait_for 60 '[ -e "$W/hold.in" ]' || fail "rank 1 did not reach its held capture"
wait_for 70 'grep -q "step capture" "$W/ck.err"' ||
    { fail "no note of the long capture within 70 s (old: silent up to REVIVE_CAPTURE_TIMEOUT):"; sed 's/^/    /' "$W/ck.err"; }
line=$(grep "step capture" "$W/ck.err" | head -1)
[[ $line == *"has waited "[3-9][0-9]" s for rank 1 to write the image (step capture); it gives up in "*" s (REVIVE_CAPTURE_TIMEOUT, 1800 s)" ]] ||
    fail "the note: '$line'"
grep -q "has waited [0-9] s\|has waited [12][0-9] s" "$W/ck.err" && fail "a note before 30 s though no rank is stopped: $(head -1 "$W/ck.err")"
kill -0 $CK 2>/dev/null || fail "ckpt-mpirun ended while rank 1 was held"
pass "a long capture: ckpt-mpirun names rank 1, step capture and the bound after 40 s: ${line:0:120}..."
rm -f "$W/hold"
wait $CK; st=$?
[ $st = 0 ] || { fail "ckpt-mpirun after the hold: status $st"; tail -3 "$W/ck.err"; }
consistent "$(tail -n1 "$W/ck.out")" 3
grep -q "step capture" "$W/a.err" && fail "the note of a merely slow capture is a warning on the job's stderr"
pass "let go, the request commits a consistent snapshot; the job's stderr has no warning of it"
kill -TERM $JOB; wait $JOB
wait_no_strays
finish
