#!/bin/bash
# drain_idle.sh FLAVOR: with REVIVE_MPI_YIELD_WHEN_IDLE=1 a rank whose drain waits for another
# rank gives its core away (src/pml_hooks/drain.c, drain_xchg.c: pml_idle_own), as its MPI waits
# do (idle.sh). A job of 2 ranks under "mpirun -am ft-enable-cr" runs with fault point
# mpi-drain-late: at the first checkpoint rank 0 waits 2 s before its drain, while rank 1 waits
# in the drain's exchange for rank 0's message counts. Over that checkpoint the ranks' agent
# threads (revive-agent) are watched in /proc: the waiting one must have given its core away at
# least MINSW (100) times (voluntary context switches: a thread polling flat out makes none,
# however loaded the machine; before, the drain's loops spun: 31, from the agent's other
# waits) and used less than MAXMS (1000) ms of CPU in all. The checkpoint commits and the job ends
# with the results of an uninterrupted run.
flavor=$1
. "$(dirname "$0")/../mpienv.sh" || exit $?
. "$(dirname "$0")/ckptenv.sh" || exit $?
n=2 steps=200 ms=100 minsw=${MINSW:-100} maxms=${MAXMS:-1000}
ck_workdir drainidle
run_native "$n" "$prog" $steps >native.out 2>native.err ||
    { failed "the native run: status $?"; tail -n 3 native.err; exit 1; }
# agents: one line "TID SWITCHES CPU_NS" for each rank's agent thread of the job JOB
agents() {
    local p t name sw ns
    for p in $(descendants "$1"); do
        for t in /proc/$p/task/*; do
            read -r name 2>/dev/null <"$t/comm" && [ "$name" = revive-agent ] || continue
            sw=$(awk '/^voluntary_ctxt_switches/ { print $2 }' "$t/status" 2>/dev/null)
            read -r ns _ 2>/dev/null <"$t/schedstat"
            [ -n "$sw" ] && [ -n "$ns" ] && echo "${t##*/} $sw $ns"
        done
    done
}
touch pace
export REVIVE_MPI_YIELD_WHEN_IDLE=1
fx=()
[ "$flavor" = ompi ] && fx=(-x REVIVE_FAULT -x REVIVE_FAULT_EPOCH -x REVIVE_MPI_YIELD_WHEN_IDLE)
REVIVE_FAULT=mpi-drain-late REVIVE_FAULT_EPOCH=1 clean timeout -k 5 900 "$wrapper" -am ft-enable-cr \
    --ckpt-dir "$d" -n "$n" "${fx[@]}" "$prog" $steps --pace "$d/pace" $ms >out 2>err &
job=$!; pids+=($job)
wait_steps out 2 $job || { failed "no steps before the checkpoint"; tail -n 4 err; exit 1; }
wait_for_job 60 $job '[ "$(agents $job | wc -l)" -ge $n ]' ||
    { failed "not $n agent threads under the job: $(agents $job | wc -l)"; show_procs $job; exit 1; }
agents $job >before
if ref=$(checkpoint $job late); then
    pass "the checkpoint with rank 0's drain 2 s late committed: $ref"
else
    failed "the checkpoint with rank 0's drain 2 s late failed:"; tail -n 4 ckpt.late.err
fi
agents $job >after
# each agent over the checkpoint: "TID SWITCHES CPU_MS"; the one that waited gave its core away
# most, and none may have spun (CPU time)
join <(sort before) <(sort after) | awk '{ print $1, $4 - $2, int(($5 - $3) / 1e6) }' >delta
said=$(awk '{ printf "%s%s switches, %s ms", NR > 1 ? "; " : "", $2, $3 }' delta)
sw=$(sort -k2,2n delta | tail -n 1 | cut -d' ' -f2) cpu=$(sort -k3,3n delta | tail -n 1 | cut -d' ' -f3)
if [ "$(wc -l <delta)" != $n ]; then
    failed "the $n agent threads were not all found again after the checkpoint"; cat before after
elif [ "$sw" -ge "$minsw" ] && [ "$cpu" -lt "$maxms" ]; then
    pass "the waiting rank's agent gave its core away $sw times (each agent over the checkpoint: $said)"
else
    failed "the waiting rank's agent gave its core away $sw times (at least $minsw expected), the most CPU time an agent used was $cpu ms (less than $maxms expected): its drain spun ($said)"
fi
rm -f pace
wait $job; rc=$?
if [ $rc != 0 ]; then
    failed "the job ended with status $rc"; tail -n 4 err
elif cmp -s <(results native.out) <(results out); then
    pass "the job ended with status 0 and the $(results out | wc -l) result lines of an uninterrupted run"
else
    failed "the results differ from the uninterrupted run"; diff <(results native.out) <(results out) | head
fi
exit $fail
