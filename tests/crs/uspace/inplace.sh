#!/bin/bash
# Restore as a library call, in place: a tiny static restarter (what an MPI
# rank's restarter will be) becomes the checkpointed process in its own
# process, under its own pid and new thread ids, and the restored process
# reads the restarter's hand-off blob from a restart hook run while its other
# threads are still parked. Continue and checkpoint hooks run around a
# checkpoint in the same order.
set -u
. "$(dirname "$0")/lib.sh"
T=$B/tests/crs/uspace
restore_workdir inplace
fails=0
pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1"; fails=1; }

clean_exec "$T/handoff" img 2>orig.err </dev/null | cat >orig.out
st=${PIPESTATUS[0]}
if [ "$st" = 0 ] && grep -qx "continue: checkpoint hook 1, continue hook 1 status 0, worker parked during it" orig.out &&
    grep -qx joined orig.out; then
    pass "checkpoint and continue hooks ran, the continue hook while the other thread was parked"
else
    fail "original: status $st"; cat orig.out orig.err
fi

for how in path fd; do
    opt=; [ $how = fd ] && opt=--fd
    # the restarter's own pid, printed by the shell that becomes it
    clean_exec bash -c 'echo $$ >r.pid; exec "$0" "$@"' "$T/inplace_restarter" $opt img "hello from $how" \
        2>r.$how.err </dev/null | cat >r.$how.out
    st=${PIPESTATUS[0]}
    want="restarted: pid new, hook in this process yes, handoff 0 \"hello from $how\", restart hook 1, worker parked during it"
    if [ "$st" = 0 ] && grep -qxF "$want" r.$how.out && grep -qx joined r.$how.out &&
        grep -qx "restarted pid $(cat r.pid)" r.$how.out; then
        pass "in place by $how: the restarter's process (pid $(cat r.pid)) became the image's, read the hand-off blob in a restart hook while the other thread was parked, and its thread runs under a new id"
    else
        fail "in place by $how: status $st, pid $(cat r.pid)"; cat r.$how.out r.$how.err
    fi
done

# a bad image: one message, status 1, nothing restored
printf 'not an image' >bad
"$T/inplace_restarter" bad blob >bad.out 2>bad.err </dev/null; st=$?
if [ "$st" = 1 ] && [ "$(wc -l <bad.err)" = 1 ] && grep -q "inplace_restarter: image bad" bad.err; then
    pass "a bad image: $(cat bad.err)"
else
    fail "bad image: status $st"; cat bad.err
fi
[ "$fails" = 0 ]
