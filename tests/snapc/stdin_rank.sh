#!/bin/bash
# A rank other than 0 that had not read the end of its standard input when its image was
# written: ckpt-mpirun says the snapshot does not hold those bytes (a restart gives standard
# input to rank 0 only), not that it keeps them for rank 0 (diffrev S1: the lowest rank's note
# was announced as kept though restart-mpi feeds rank 0 alone). Rank 0's input is /dev/null
# (fake_rank --stdin-null 0); rank 1 holds 5 unread bytes of an ended pipe (--stdin-from FIFO).
. "$(dirname "$0")/lib.sh"
snapc_workdir snapc-stdinrank
mkfifo -m 600 "$W/in"
( printf 'abcde' >"$W/in" ) &
start_job s 2 --iters $UNTIL_KILLED --sleep-us 500 --stdin-null 0 --stdin-from "$W/in"
expect_rc 0 "a snapshot" "$CKPT" --wait --term $JOB
wait $JOB
if grep -q "rank 1 had not read 5 bytes of its standard input (in its pipe, the end of the input) when its image was written; the snapshot does not hold them: a restart gives standard input to rank 0 only" "$W/cmd.err"; then
    pass "rank 1's unread standard input is said not to be kept"
else
    fail "ckpt-mpirun's note:"; grep -i "standard input" "$W/cmd.err"
fi
finish
