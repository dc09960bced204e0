#!/bin/bash
# rst_scratchlive.sh FLAVOR: a snapshot of a job holding a MPI_MODE_DELETE_ON_CLOSE file is
# restarted while the job still runs, the file unchanged since the snapshot (rst_scratchlive.c;
# diffrev44 R-H1). The restarted job must get a file of its own: after the original's rank 0
# writes 9999 into its file (and reads it back), the restarted job never reads 9999 and reads
# the snapshot's 1000 alone (diffrev45 R-L1); both jobs end with status 0, no process left.
flavor=$1
. "$(dirname "$0")/../mpienv.sh" || exit $?
. "$(dirname "$0")/ckptenv.sh" || exit $?
ck_prog rst_scratchlive
export REVIVE_RESTART_RANK=$restarter
n=2
case $flavor in
ompi) opt=(--oversubscribe) ;;
*) opt=(-launcher fork) ;;
esac
ck_workdir scratchlive
clean timeout -k 5 300 "$wrapper" -am ft-enable-cr "${opt[@]}" --ckpt-dir "$d" -n "$n" "$prog" \
    "$d/scratch.tmp" "$d/poke" "$d/stop" >out.0 2>err.0 &
job=$!; pids+=($job)
ready() { grep -q "^ready" out.0; }
wait_for_job 120 $job ready && ref=$(checkpoint $job live) ||
    { failed "no snapshot of the job"; tail -n 4 ckpt.*.err err.0; touch "$d/stop"; wait $job; exit 1; }
clean timeout -k 5 300 "$RESTART" "$ref" >out.1 2>err.1 &
rjob=$!; pids+=($rjob)
back() { grep -q "^restarted: reads" out.1; }
if wait_for_job 180 $rjob back; then
    touch "$d/poke"
    poked() { grep -q "^original: reads 9999" out.0; }
    wait_for_job 60 $job poked || failed "the original job did not read back its 9999: $(tail -n 2 out.0)"
    sleep 1 # a few of the restarted job's reads after the write (20 steps)
else
    failed "the restarted job never read its file: $(tail -n 3 err.1)"
fi
touch "$d/stop"
wait $job; rc0=$?
wait $rjob; rc1=$?
if grep -q "^restarted: reads 9999" out.1; then
    failed "the restarted job read the original job's write: it opened the original's very file"
    cat out.1
elif grep "^restarted: reads" out.1 | grep -vqx "restarted: reads 1000"; then
    # its own file must hold the snapshot's bytes (rank 0's 1000), not only other than the
    # original's 9999 (diffrev45 R-L1: an empty or a stale file read 0 and passed)
    failed "the restarted job read other than the snapshot's 1000: $(grep '^restarted: reads' out.1 | sort -u | tr '\n' ' ')"
elif [ $rc0 = 0 ] && [ $rc1 = 0 ] && grep -q "^original: reads 9999" out.0 && back; then
    pass "restarted beside the running original: a scratch file of its own ($(grep -c '^restarted: reads' out.1) values read, never the original's 9999)"
else
    failed "status $rc0 (original), $rc1 (restart)"; tail -n 3 err.0 err.1
fi
left=$(no_strays "$d/") || { failed "processes left: $left"; kill -KILL $(awk '{print $1}' <<<"$left") 2>/dev/null; }
exit $fail
