#!/bin/bash
# Alternate signal stacks in memory a capture filter leaves out of the image (altstack_lost.c:
# the main thread's, and a second thread's, which is inside a SIGUSR1 handler without SA_ONSTACK
# at the checkpoint): the original runs on; restarted (twice from the image), each thread's
# sigaltstack() names the stack it set and a SA_ONSTACK signal runs on it. Before session 52 the
# restarted threads had fresh stacks at other addresses, and the return of the second thread's
# handler set the left-out stack again: its SIGUSR2 killed the process (status 139).
set -u
. "$(dirname "$0")/lib.sh"
T=$B/tests/crs/uspace
restore_workdir altstack_lost
fails=0
pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1"; fails=1; }

clean_exec "$T/altstack_lost" img 2>orig.err </dev/null | cat >orig.out
st=${PIPESTATUS[0]}
[ "$st" = 0 ] && grep -qx "continue ok" orig.out && pass "the original runs on, both stacks as set" ||
    { fail "original: status $st"; cat orig.out orig.err; }
for i in 1 2; do
    timeout 60 "$B/tools/cr_restart" img 2>r$i.err </dev/null | cat >r$i.out
    st=${PIPESTATUS[0]}
    if [ "$st" = 0 ] && grep -qx "restarted ok" r$i.out; then
        pass "restart $i: each thread's alternate stack where it was set, SA_ONSTACK signals run on it"
    else
        fail "restart $i: status $st"; cat r$i.out r$i.err
    fi
done
[ "$fails" = 0 ]
