#!/bin/bash
# The BLCR API from inside a process: the two patterns of the reference mail
# and callbacks, each run to the end and then restarted from its own image;
# the restarted process must print what the original printed from the
# checkpoint on (with "restart" where the original said "continue").
set -u
B=${REVIVE_BUILDDIR:?}
T=$B/tests/crs/libcr
W=$(mktemp -d /tmp/revive-libcr.XXXXXX)
trap 'rm -rf "$W"' EXIT
fails=0
pass() { echo "PASS $1"; }
fail() { echo "FAIL $1"; fails=$((fails + 1)); }

# Standard output goes through a pipe, so that a restarted process writes to
# cr_restart's own (a regular file would be reopened at its saved offset).
# close whatever descriptors the test runner left open: they are not the program's
run() { timeout 60 bash -c 'for f in /proc/$$/fd/*; do n=${f##*/}; [ "$n" -gt 2 ] 2>/dev/null && eval "exec $n>&-"; done; exec "$@"' x "$@"; }

# --- pattern 1: cr_request + empty critical section, twice
cd "$W" && mkdir p1 && cd p1
run "$T/mail_request" . 2>orig.err | cat >orig.out; st=${PIPESTATUS[0]}
[ "$st" = 7 ] && [ -s first.img ] && ls context.* >/dev/null 2>&1 && pass "pattern 1 runs and writes both images" \
    || { fail "pattern 1 original: status $st"; cat orig.err; }
for img in first.img context.*; do
    [ -f "$img" ] || continue
    timeout 60 "$B/tools/cr_restart" "$img" 2>r.err | cat >r.out; rst=${PIPESTATUS[0]}
    n=$(wc -l <r.out)
    if [ "$rst" = 7 ] && [ "$n" -gt 0 ] && diff <(tail -n "$n" orig.out) r.out >/dev/null; then
        pass "pattern 1 restart from $img (last $n lines equal, status 7)"
    else
        fail "pattern 1 restart from $img: status $rst"; diff <(tail -n "$n" orig.out) r.out; cat r.err
    fi
done
perm=$(stat -c %a first.img 2>/dev/null)
[ "$perm" = 600 ] && pass "cr_request_file image is 0600" || fail "image mode $perm, expected 600"

# --- pattern 2: cr_request_checkpoint over an older, longer file; poll loop
cd "$W" && mkdir p2 && cd p2
run "$T/mail_poll" poll.img 2>orig.err | cat >orig.out; st=${PIPESTATUS[0]}
expect="before x=12345
poll with timeout while held: 0
tryenter while pending: -1 EAGAIN
continuing x=12346
poll of a reaped handle: -1"
if [ "$st" = 4 ] && [ "$(cat orig.out)" = "$expect" ]; then pass "pattern 2 original (poll timeout, tryenter, continue)"
else fail "pattern 2 original: status $st"; diff <(echo "$expect") orig.out; cat orig.err; fi
size=$(stat -c %s poll.img)
[ "$size" -lt 104857600 ] && pass "image over a longer file is cut to its size ($size bytes)" || fail "image not truncated: $size"
"$B/tools/cr_info" --verify poll.img >/dev/null 2>info.err && pass "cr_info --verify accepts it" || { fail "cr_info --verify"; cat info.err; }
timeout 60 "$B/tools/cr_restart" poll.img >r.out 2>r.err; rst=$?
expect_r="restarted x=12346
poll of a reaped handle: -1"
if [ "$rst" = 5 ] && [ "$(cat r.out)" = "$expect_r" ]; then pass "pattern 2 restart: poll fails with EINVAL, status 5"
else fail "pattern 2 restart: status $rst"; diff <(echo "$expect_r") r.out; cat r.err; fi

# --- callbacks
cd "$W" && mkdir cb && cd cb
run "$T/callbacks" cb.img 2>orig.err | cat >orig.out; st=${PIPESTATUS[0]}
if [ "$st" = 0 ] && grep -q "T1: cr_checkpoint returned continue" orig.out && ! grep -q FAIL orig.out; then
    pass "callbacks in BLCR's order, continue"
else fail "callbacks original: status $st"; cat orig.out orig.err; fi
timeout 60 "$B/tools/cr_restart" cb.img >r.out 2>r.err; rst=$?
if [ "$rst" = 0 ] && [ "$(grep -c 'returned restart' r.out)" = 3 ] && ! grep -q FAIL r.out; then
    pass "callbacks after restart: every cr_checkpoint returned > 0"
else fail "callbacks restart: status $rst"; cat r.out r.err; fi
grep -q "outside a callback: -1" orig.out && pass "cr_checkpoint outside a callback fails" || fail "cr_checkpoint outside a callback"

# --- a request for another process: target PID, cr_signal, errors
cd "$W" && mkdir other && cd other
run "$B/tools/cr_run" "$B/tests/crs/uspace/pid_printer" 40 2>/dev/null | cat >victim.out &
for i in $(seq 100); do grep -q '^step 2' victim.out 2>/dev/null && break; sleep 0.05; done
vpid=$(awk '/^step/ {print $4; exit}' victim.out)
sleep 30 & plain=$!
(cd "$W/other" && LD_PRELOAD= run "$T/request_other" other.img "$vpid" "$plain" >req.out 2>req.err)
kill "$plain" 2>/dev/null
expect="request: 0
poll: 1
no such process: -1 ESRCH
descriptor not writable: -1 EINVAL
not under Revive: -1 ENOSYS"
if [ "$(cat req.out)" = "$expect" ]; then pass "cr_request_checkpoint of another process and its errors"
else fail "request for another process"; diff <(echo "$expect") req.out; cat req.err; fi
wait 2>/dev/null
if ! kill -0 "$vpid" 2>/dev/null && "$B/tools/cr_info" --verify other.img >/dev/null; then
    pass "the target got cr_signal (SIGKILL) after a complete image"
else fail "target still alive or image invalid"; kill -9 "$vpid" 2>/dev/null; fi
timeout 60 "$B/tools/cr_restart" other.img 2>r.err | cat >r.out; rst=${PIPESTATUS[0]}
last=$(tail -n1 victim.out | awk '{print $2}')
if [ "$rst" = 0 ] && grep -q "worker alive 1" r.out && [ "$(head -n1 r.out | awk '{print $2}')" -gt "$last" ]; then
    pass "the target restarts from that image and finishes"
else fail "restart of the target: status $rst"; tail -3 r.out; cat r.err; fi

echo "libcr_api: $fails failed"
[ "$fails" = 0 ]
