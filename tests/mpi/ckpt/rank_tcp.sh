#!/bin/bash
# rank_tcp.sh FLAVOR: a rank's own TCP connection to another rank (rank_tcp.c, 2 ranks) cannot be
# restored: while it is open, ckpt-mpirun must fail naming the rank, the descriptor and the
# connection, and the job goes on untouched. The rank captures once recorded such a descriptor as
# closed and committed the snapshot, whose restart then died on EBADF (review13 HIGH-1). Once the
# ranks have closed it (the close file), a --term snapshot commits and restart-mpi finishes the
# run with the uninterrupted run's lines; no process is left.
flavor=$1
. "$(dirname "$0")/../mpienv.sh" || exit $?
. "$(dirname "$0")/ckptenv.sh" || exit $?
ck_prog rank_tcp
n=2 steps=60 ms=200
ck_workdir tcp
run_native "$n" "$prog" $steps "$d/nopace" 0 "$d/noclose" >native.out 2>native.err ||
    { failed "the native run: status $?"; tail -n 3 native.err; exit 1; }
touch pace
clean timeout -k 5 600 "$wrapper" -am ft-enable-cr --ckpt-dir "$d" -n "$n" "$prog" $steps "$d/pace" \
    $ms "$d/close" >out.0 2>err.0 &
job=$!; pids+=($job)
wait_steps out.0 2 $job || { failed "no steps before the checkpoint"; tail -n 4 err.0; exit 1; }
if ref=$(checkpoint $job open); then
    failed "a snapshot with a TCP connection between ranks open was committed: $ref"
elif grep -qE 'rank [01] .*TCP connection to another process at 127\.0\.0\.1:[0-9]+ \(local address 127\.0\.0\.1:[0-9]+\)' \
    ckpt.open.err; then
    # both ends' addresses, not the descriptor only (newuser7b F5)
    pass "refused while the connection is open, naming both addresses: $(grep -m1 'TCP connection' ckpt.open.err)"
elif grep -q 'rank [01] .*TCP connection to another process' ckpt.open.err; then
    failed "the refusal does not name the connection's addresses: $(grep -m1 'TCP connection' ckpt.open.err)"
else
    failed "ckpt-mpirun failed without naming the connection"; show_err ckpt.open.err
fi
grep -q 'ignore-fds' ckpt.open.err err.0 &&
    failed "the refusal offers --ignore-fds, which ckpt-mpirun does not have"
touch close
wait_for_job 120 $job 'grep -q "closed its TCP connection" err.0' ||
    { failed "the ranks did not close the connection"; rm -f pace; wait $job; exit 1; }
kill -0 $job 2>/dev/null || { failed "the job ended before its second snapshot"; exit 1; }
if ! term_restart $job; then
    failed "ckpt-mpirun --term after the close: $(tail -n 2 ckpt.term.err | tr '\n' ' ')"
else
    restart_verdict "--term after the close"
fi
left=$(no_strays "$d/") || { failed "processes left: $left"; kill -KILL $(awk '{print $1}' <<<"$left") 2>/dev/null; }
exit $fail
