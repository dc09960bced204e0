#!/bin/bash
# stdin_wait.sh FLAVOR: a checkpoint that times out because rank 0 waits for its standard input
# (stdin_wait.c, 2 ranks, stdin a FIFO nobody writes yet): ckpt-mpirun --timeout 3 exits 1
# saying that rank 0 is outside MPI, blocked reading fd 0, its standard input; then the line
# comes and the job ends normally. Before (review9 F2) the message said only "rank 0 is outside
# MPI", leaving the user to guess what the rank was doing.
flavor=$1
. "$(dirname "$0")/../mpienv.sh" || exit $?
. "$(dirname "$0")/ckptenv.sh" || exit $?
ck_prog stdin_wait
ck_workdir stdinwait
mkfifo in || exit 1
exec 8<>in # the FIFO open for writing: the job's open of it does not block, reads wait
clean timeout -k 5 300 "$wrapper" -am ft-enable-cr -n 2 "$prog" <in >out.0 2>err.0 &
job=$!; pids+=($job)
for i in $(seq 1200); do grep -q '^ready$' out.0 2>/dev/null && break; sleep 0.1; done
grep -q '^ready$' out.0 || { failed "rank 0 did not get ready: $(tail -n 2 err.0)"; exit 1; }
sleep 0.5 # rank 0 from its printf to its read
c=$(coord $job) || { failed "no coordinator under the job"; exit 1; }
clean "$CKPT" --timeout 3 "$c" >ckpt.out 2>ckpt.err; rc=$?
msg=$(grep 'no checkpoint' ckpt.err)
if [ $rc = 1 ] && [[ $msg == *"rank 0 is outside MPI, blocked reading fd 0 (its standard input"* ]]; then
    pass "the timed-out checkpoint names what rank 0 waits for: ${msg#ckpt-mpirun: }"
else
    failed "ckpt-mpirun --timeout 3: status $rc, expected 1 and rank 0 blocked reading fd 0"
    show_err ckpt.err
fi
echo hello >&8
exec 8>&-
wait $job; rc=$?
if [ $rc = 0 ] && [ "$(grep -c '^rank [01] got 6$' out.0)" = 2 ]; then
    pass "the job went on after the timeout and ended normally"
else
    failed "the job after the timeout: status $rc"; show_err out.0 err.0
fi
left=$(no_strays "$d/") || failed "processes left: $left"
exit $fail
