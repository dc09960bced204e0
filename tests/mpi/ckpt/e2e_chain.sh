#!/bin/bash
# e2e_chain.sh FLAVOR: the whole pipeline through the user's commands, generation after
# generation. A job started with "mpirun -am ft-enable-cr" is checkpointed with
# "ckpt-mpirun --term"; "restart-mpi REF" relaunches it from that snapshot; the restarted job is
# first checkpointed while it runs (it goes on: more steps printed after the snapshot), then with
# --term, and so on for 10 generations (E2E_GENS; REVIVE_TEST_QUICK=1: 3). The last snapshot is
# restarted and runs to the end. The step checksums of all generations together equal an
# uninterrupted native run's; a snapshot taken while a restarted job ran, restarted on its own,
# ends with the native run's last lines; every generation's snapshots lie beside the first; no
# process of the chain is left. No timing assumption: the job (rst_prog --pace) sleeps between
# steps while a file exists, so it cannot end before its checkpoints however slow the machine,
# and every wait is for a condition (lines printed, a command's end) with a generous timeout.
flavor=$1
. "$(dirname "$0")/../mpienv.sh" || exit $?
. "$(dirname "$0")/ckptenv.sh" || exit $?
export REVIVE_RESTART_RANK=$restarter
G=${E2E_GENS:-10}
[ "${REVIVE_TEST_QUICK:-0}" = 1 ] && G=3
n=2 steps=600 ms=150
d=$tmp/e2e
mkdir -p "$d"
cd "$d" || exit 1
touch pace
run_native "$n" "$prog" $steps >native.out 2>native.err ||
    { failed "the native run: status $?"; tail -n 3 native.err; exit 1; }
clean timeout -k 5 900 "$wrapper" -am ft-enable-cr --ckpt-dir "$d" -n "$n" "$prog" $steps \
    --pace "$d/pace" $ms >out.0 2>err.0 &
job=$!; pids+=($job)
wait_steps out.0 2 $job && ref=$(checkpoint $job 0 --term) ||
    { failed "generation 0: no snapshot"; show_err ckpt.0.err err.0; exit 1; }
wait $job
first=$ref side=
for g in $(seq 1 $G); do
    start=$(date +%s%N)
    clean timeout -k 5 900 "$RESTART" "$ref" >out.$g 2>err.$g &
    job=$!; pids+=($job)
    # a generation's restart, its two snapshots and its steps take 1.4-1.6 s (official CI) to
    # 3.4 s (load 15): 120 s, not 300, for its first steps. A restart that hangs (official CI of
    # 6cb5ab4, generation 6: no rank back after 15 min) holds CI as long as this waits, and the
    # test beside it too if its ranks spin
    if ! wait_steps out.$g 2 $job 120 || ! refa=$(checkpoint $job $g.run); then
        failed "generation $g: no snapshot while it runs ($(nsteps out.$g) steps printed)"
        show_err ckpt.$g.run.err err.$g; show_procs $job; break
    fi
    # it runs on after the snapshot
    k=$(nsteps out.$g)
    if ! wait_steps out.$g $((k + 2)) $job; then
        failed "generation $g: the job did not go on after its snapshot"; show_err err.$g; break
    fi
    if ! ref2=$(checkpoint $job $g --term); then
        failed "generation $g: no snapshot with --term"; show_err ckpt.$g.err err.$g; break
    fi
    wait $job
    echo "generation $g: restarted, checkpointed running and with --term in" \
        "$((($(date +%s%N) - start) / 1000000)) ms: $ref2"
    for r in "$refa" "$ref2"; do
        [ "$(dirname "$(dirname "$r")")" = "$(dirname "$(dirname "$first")")" ] ||
            failed "generation $g: snapshot $r is not beside $first"
    done
    [ -z "$side" ] && side=$refa
    ref=$ref2
done
rm -f pace # the rest at full speed
if [ $fail = 0 ]; then
    clean timeout -k 5 ${E2E_LAST_TMO:-600} "$RESTART" "$ref" >out.last 2>err.last; rc=$?
    [ $rc = 0 ] || { failed "the last restart: status $rc"; show_err err.last; }
fi
results out.0 $(for g in $(seq 1 $G); do echo out.$g; done) out.last >chain.out
if [ $fail = 0 ] && cmp -s <(results native.out) chain.out; then
    pass "$G generations through ckpt-mpirun (running, then --term) and restart-mpi:" \
        "$(wc -l <chain.out) result lines as uninterrupted"
elif [ $fail = 0 ]; then
    failed "the chain's results differ from the uninterrupted run"; diff <(results native.out) chain.out | head
fi
# a snapshot taken while a restarted job ran, restarted on its own
if [ $fail = 0 ] && [ -n "$side" ]; then
    clean timeout -k 5 ${E2E_LAST_TMO:-600} "$RESTART" "$side" >out.side 2>err.side; rc=$?
    k=$(results out.side | wc -l)
    if [ $rc = 0 ] && [ "$k" -gt 1 ] && cmp -s <(results native.out | tail -n "$k") <(results out.side); then
        pass "the snapshot of generation 1 taken while it ran: its last $k result lines as uninterrupted"
    else
        failed "the snapshot of generation 1 taken while it ran: status $rc, $k result lines"
        show_err err.side
    fi
fi
# every process of the chain has ended (an exit may take a moment to reach /proc: 30 s)
left=$(no_strays "$d/") || failed "processes left: $left"
exit $fail
