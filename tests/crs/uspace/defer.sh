#!/bin/bash
# Park deferral: a thread inside a crs_park_defer_enter/leave section is
# parked only when it leaves the outer one; a section held past the timeout
# fails the checkpoint with a message naming the thread and the thread runs
# on; the image restarts with the thread resuming where it parked late.
set -u
. "$(dirname "$0")/lib.sh"
T=$B/tests/crs/uspace
restore_workdir defer
fails=0
pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1"; fails=1; }
expect_tail="phase 2: a section held too long fails the checkpoint; the thread runs on
phase 3: the next checkpoint works
ok"

clean_exec "$T/defer" img1 img3 2>orig.err </dev/null | cat >orig.out
st=${PIPESTATUS[0]}
if [ "$st" = 0 ] && [ "$(cat orig.out)" = "phase 1: parked after leaving its nested section
continue
$expect_tail" ]; then
    pass "parked only after the outer section; timeout; next checkpoint"
else
    fail "original: status $st"; cat orig.out orig.err
fi
if grep -q "checkpoint failed: thread [0-9]* stayed inside a section that defers checkpoints (crs_park_defer_enter) for more than 1000 ms" orig.err; then
    pass "the timeout names the thread: $(grep -o 'thread [0-9]* stayed.*' orig.err)"
else
    fail "no message naming the thread in a section"; cat orig.err
fi

timeout 60 "$B/tools/cr_restart" img1 2>r.err </dev/null | cat >r.out
st=${PIPESTATUS[0]}
if [ "$st" = 0 ] && [ "$(cat r.out)" = "restarted
$expect_tail" ]; then
    pass "restarted: the thread resumes in its crs_park_defer_leave with its mask, and it all runs again"
else
    fail "restart: status $st"; cat r.out r.err
fi
[ "$fails" = 0 ]
