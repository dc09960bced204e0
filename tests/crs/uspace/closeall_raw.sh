#!/bin/bash
# crt_closeall with CRT_CLOSEALL_RAW=1: the program also closes everything
# above 2 with the raw close_range system call, which libcr cannot intercept.
# The checkpoint thread must not spin (the program checks its CPU time), and
# must notice at the next request and listen again, saying so on stderr
# (checked here for kill); cr_checkpoint retries the request that made it
# notice. Flavours that look at stdout only (tty would mix the warning in).
out=$(CRT_CLOSEALL_RAW=1 CRS_FLAVOURS="kill rr cont fork stop" CRS_KEEP=1 \
    bash "$(dirname "$0")/../cr_cycle.sh" crt_closeall)
st=$?
echo "$out"
work=$(echo "$out" | sed -n 's/^work directory kept[a-z ]*: //p')
if [ "$st" = 0 ] && [ -d "$work" ]; then
    if grep -q "closed Revive's checkpoint socket" "$work/kill/orig.err"; then
        echo "PASS the process said that its checkpoint socket was closed and that it listens again"
    else
        echo "FAIL the process did not say that its checkpoint socket was closed (kill/orig.err):"
        sed 's/^/   | /' "$work/kill/orig.err"
        st=1
    fi
fi
[ "$st" = 0 ] && [ -d "$work" ] && rm -rf "$work"
exit $st
